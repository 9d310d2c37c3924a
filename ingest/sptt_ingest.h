/*
** Ingest: readers and writers of the raw dataset formats (PLY meshes, ScanNet .sens streams).
**
** PLY is read by our own reader, never by Assimp: Debian's Assimp 5.2.5 silently drops the first
** data byte of a binary PLY when it is 0x0A, so every later field is read a byte off with no
** error, and it discards custom properties such as label and objectId.
*/
#ifndef SPTT_INGEST_H
#define SPTT_INGEST_H

#include <stdint.h>

/* ---------------------------------------------------------------------------------------------
** PLY
*/
#define SPTT_PLY_ASCII 0
#define SPTT_PLY_BINARY_LE 1
#define SPTT_PLY_BINARY_BE 2

typedef struct sptt_ply_column {
    char zName[32];
    double *values;       /* (nVerts) */
} sptt_ply_column;

typedef struct sptt_ply {
    int format;
    uint64_t nVerts;
    float *xyz;           /* (nVerts, 3) */
    uint8_t *rgb;         /* (nVerts, 3) or NULL when the file has no colour */
    uint8_t *alpha;       /* (nVerts) or NULL */
    uint64_t nFaces;
    uint32_t *faces;      /* (nFaces, 3); polygons are split into fans */
    int nExtra;
    sptt_ply_column *extra;   /* vertex properties other than x y z and colour, kept by name */
    size_t headerSize;        /* bytes up to and including "end_header\n" */
} sptt_ply;

/*
** Reads ASCII and binary (either endianness) PLY. Properties are found by name; colour may be
** red/green/blue[/alpha] or r/g/b or diffuse_*, as uchar (or float in [0, 1]). Refuses, naming
** the file and the header line or byte offset: a malformed header, an unsupported property
** type, counts that disagree with the file size, face indices out of range, and non-finite
** coordinates.
*/
int sptt_ply_read(const char *zPath, sptt_ply *p);
void sptt_ply_free(sptt_ply *p);
/* Value of an extra column by name, or NULL. */
const double *sptt_ply_column_values(const sptt_ply *p, const char *zName);

/*
** Writes a binary little-endian triangle mesh with the same header layout as ScanNet's
** *_vh_clean_2.ply: x y z float; red green blue [alpha] uchar; face list uchar int.
*/
int sptt_ply_write(const char *zPath, const char *zComment, uint64_t nVerts, const float *xyz, const uint8_t *rgb,
                   int withAlpha, uint64_t nFaces, const uint32_t *faces);

/* ---------------------------------------------------------------------------------------------
** ScanNet .sens (version 4)
*/
typedef struct sptt_sens_frame {
    float c2w[16];            /* raw scan frame; all -inf where tracking failed */
    uint64_t tColor, tDepth;  /* microseconds */
    uint64_t colorOffset, colorSize;   /* byte range of the compressed colour in the file */
    uint64_t depthOffset, depthSize;
} sptt_sens_frame;

typedef struct sptt_sens {
    char zSensor[256];
    float intrinsicColor[16], extrinsicColor[16], intrinsicDepth[16], extrinsicDepth[16];
    int32_t colorCompression;     /* 2 = JPEG */
    int32_t depthCompression;     /* 1 = zlib uint16 */
    uint32_t colorWidth, colorHeight, depthWidth, depthHeight;
    float depthShift;
    uint64_t nFrames;
    sptt_sens_frame *frames;
    uint64_t fileSize;
    void *fp;                     /* the open file, for sptt_sens_blob */
    char zPath[512];
} sptt_sens;

/* Reads the header and the frame table (not the images), validating every size against the file. */
int sptt_sens_read(const char *zPath, sptt_sens *s);
/* Copies size bytes at offset (a frame's colour or depth) into buf. */
int sptt_sens_blob(sptt_sens *s, uint64_t offset, uint64_t size, uint8_t *buf);
void sptt_sens_free(sptt_sens *s);

/* Streaming writer: header first, then frames one at a time, then the IMU block. */
typedef struct sptt_sens_writer sptt_sens_writer;
int sptt_sens_create(const char *zPath, const sptt_sens *header, sptt_sens_writer **pw);
int sptt_sens_add_frame(sptt_sens_writer *w, const float *c2w, uint64_t tColor, uint64_t tDepth, const uint8_t *color,
                        uint64_t colorSize, const uint8_t *depth, uint64_t depthSize);
/* Finishes the file (frame count, IMU block) and renames it into place; frees w either way. */
int sptt_sens_finish(sptt_sens_writer *w, int ok);

/* ---------------------------------------------------------------------------------------------
** Scene ingestion: raw dataset folder -> scene pack + rows, one transaction per scene.
**
** Input checks. Every frame ingest commits satisfies the pack's frame rule (sptt_schemas.h: rigid
** finite pose, fx, fy > 0, finite cx, cy), checked on the source values first so that a refusal
** names the file, the field and the frame. Beyond that rule, values are refused (SPTT_EFORMAT,
** exit status 2) or warned about as follows:
**
**   | input                          | rule                                                      |
**   |--------------------------------|-----------------------------------------------------------|
**   | .sens camera_to_world          | a pose with -inf entries (and no NaN or +inf) is lost     |
**   | pose/<i>.txt                   | tracking: the frame is skipped with a warning; any other  |
**   |                                | pose must pass the frame rule                             |
**   | .sens intrinsic_color,         | fx, fy, cx, cy pass the frame rule                        |
**   | intrinsic_color.txt, .pincam   |                                                           |
**   | .sens colour size, .pincam and | 1 to SPTT_INGEST_MAX_SIDE pixels a side, checked before   |
**   | .txt colorWidth/colorHeight    | anything is allocated                                     |
**   | .sens colour JPEG              | its size equals the header's colour size; it decodes      |
**   |                                | without error or warning                                  |
**   | .sens colour timestamps        | non-decreasing; at most SPTT_INGEST_MAX_SPAN s after the  |
**   |                                | first frame's (all zero: timed by index / --source-fps)   |
**   | pose/<i>.txt index i           | below 2^32                                                |
**   | .traj timestamp, frame names   | 0 to SPTT_INGEST_MAX_TIME s; the frames with a pose span  |
**   |                                | at most SPTT_INGEST_MAX_SPAN s                            |
**   | .traj                          | at least one pose; each pose passes the frame rule        |
**   | obbAligned centroid            | each coordinate within +-SPTT_INGEST_BOX_MAX_CENTER m     |
**   | obbAligned axesLengths         | SPTT_INGEST_BOX_MIN_EDGE to SPTT_INGEST_BOX_MAX_EDGE m    |
**   | aggregation segments           | an id that no vertex of segIndices uses: a warning        |
**   |                                | (missing_segments) counting them per object               |
**   | label table                    | at least one row after the header                         |
*/

/* A frame side: 16384 pixels is over twelve times a ScanNet colour frame's 1296 and bounds a
** decoded frame at 805 MB. */
#define SPTT_INGEST_MAX_SIDE 16384
/* Seconds a scan or video may span: real ones last minutes; a day leaves room for anything real
** and refuses timestamps that jumped by years. */
#define SPTT_INGEST_MAX_SPAN 86400.0
/* ARKitScenes times are seconds since the device started; 1e10 s is three centuries. */
#define SPTT_INGEST_MAX_TIME 1e10
/* An annotation box is furniture in a home scanned from within a few metres of the session's
** origin: a centre beyond a kilometre or an edge beyond 50 m is not one; an edge under a
** millimetre cannot be drawn by hand. */
#define SPTT_INGEST_BOX_MAX_CENTER 1000.0
#define SPTT_INGEST_BOX_MIN_EDGE 0.001
#define SPTT_INGEST_BOX_MAX_EDGE 50.0

#include <sqlite3.h>
#include "sptt_schemas.h"

typedef struct sptt_ingest_opts {
    const char *zPackDir;     /* NULL: packs/ beside the database */
    const char *zLabels;      /* ScanNet label table (tsv) */
    const char *zAlign;       /* ScanNet: file holding an axisAlignment line */
    const char *zSens;        /* ScanNet: the .sens stream (default <scene>/<scene>.sens) */
    const char *zPoses;       /* ScanNet: folder with pose/ and intrinsic/ from the exporter */
    const char *zMap;         /* mesh: name -> category table */
    const char *zUp;          /* mesh: "y" or "z", the up axis of the file */
    double fps;               /* frames kept per second of video (default 24 ScanNet, 10 ARKit) */
    double sourceFps;         /* ScanNet frame rate assumed when timestamps are absent */
    int frameW, frameH;       /* size of the frames stored in the pack */
    int noFrames;             /* keep poses, skip decoding images */
    uint64_t nSample;         /* > 0: also store this many uniform surface samples */
    uint64_t seed;
    int force;                /* re-ingest even when the input hash is unchanged */
    int replace;              /* a scene of the same name from another source may be replaced */
    int quiet;
} sptt_ingest_opts;

typedef struct sptt_ingest_result {
    char zName[128];
    int skipped;              /* unchanged since the last ingest */
    uint64_t nPoints, nFaces, nFrames, nInstances, nWarnings;
    char zSummary[512];       /* the one-line summary printed per scene */
} sptt_ingest_result;

int sptt_ingest_scannet(sqlite3 *db, const char *zSceneDir, const sptt_ingest_opts *o, sptt_ingest_result *r);
int sptt_ingest_arkit(sqlite3 *db, const char *zVideoDir, const sptt_ingest_opts *o, sptt_ingest_result *r);
int sptt_ingest_mesh(sqlite3 *db, const char *zFile, const sptt_ingest_opts *o, sptt_ingest_result *r);

/* --frame-size WxH (an sptt_cli FN option, pOut int[2]): at most SPTT_INGEST_MAX_SIDE a side. Shared by
** sptt-ingest and sptt-build. */
int sptt_ingest_parse_frame_size(const char *zOpt, const char *zVal, void *pOut);

/* ---------------------------------------------------------------------------------------------
** ScanNet label table
*/
typedef struct sptt_label_table sptt_label_table;
/* Reads scannetv2-labels.combined.tsv: columns found by name, CRLF and empty cells handled; a raw
** category listed twice keeps its last row, as the official reader's dictionary does. */
int sptt_labels_load(const char *zPath, sptt_label_table **pT);
/* nyu40id of a raw category, or -1 when the table lacks it. */
int sptt_labels_nyu40(const sptt_label_table *t, const char *zRaw);
void sptt_labels_free(sptt_label_table *t);

#endif
