/*
** Geometry: room size and centre from a 2D alpha shape, object boxes (minimal-volume and upright),
** and a top-down picture of a scene.
**
** Conventions follow the VSI-Bench reference geometry: z is up, all 2D work is in XY, box axes
** are the rows of a 3x3 matrix (right-handed) and box sizes are full edge lengths along those
** rows. Every function here sorts and deduplicates its input first, so results do not depend on
** the order of the points.
*/
#ifndef SPTT_GEOMETRY_H
#define SPTT_GEOMETRY_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------------------------------
** Flags. Box flags go to objects.box_flags and object_boxes.flags, room flags to
** scenes.room_flags. A flag in SPTT_BOX_WARN / SPTT_ROOM_WARN also produces a warning (stderr
** and the scene_warnings table); the others are informational.
*/
#define SPTT_BOX_FEW_POINTS    0x001   /* fewer than 4 distinct points */
#define SPTT_BOX_DUPLICATES    0x002   /* exact duplicate points were ignored (informational: meshes
                                          ** repeat vertices along seams; the warnings of a degenerate
                                          ** box say how many points were repeats) */
#define SPTT_BOX_COLLINEAR     0x004   /* points on one line: two sizes are 0 */
#define SPTT_BOX_COPLANAR      0x008   /* points on one plane: one size is (about) 0 */
#define SPTT_BOX_HULL_FAILED   0x010   /* Qhull refused the points: best of the PCA and upright frames, refined on all points */
#define SPTT_BOX_NO_ANNOTATION 0x020   /* ARKitScenes object without an annotation box: fitted box stored */
#define SPTT_BOX_SKIPPED       0x040   /* too few points for a box: box columns left NULL */
#define SPTT_BOX_WARN (SPTT_BOX_FEW_POINTS | SPTT_BOX_COLLINEAR | SPTT_BOX_COPLANAR | SPTT_BOX_HULL_FAILED | \
                       SPTT_BOX_NO_ANNOTATION | SPTT_BOX_SKIPPED)

#define SPTT_ROOM_FEW_POINTS   0x001   /* fewer than 4 distinct XY points: convex hull used */
#define SPTT_ROOM_COLLINEAR    0x002   /* XY points on one line (e.g. a single wall): area 0 */
#define SPTT_ROOM_CONVEX_HULL  0x004   /* area is the convex hull's (alpha <= 0, or the fallbacks above) */
#define SPTT_ROOM_EMPTY        0x008   /* no triangle passed the circumradius test: area 0 */
#define SPTT_ROOM_SPLIT        0x010   /* the alpha shape has more than one outer boundary */
#define SPTT_ROOM_NO_FLOOR     0x020   /* too few floor-labelled points: floor = 1st percentile of z */
#define SPTT_ROOM_NO_CEILING   0x040   /* too few ceiling-labelled points: ceiling = 99th percentile of z */
#define SPTT_ROOM_BOX_DEGENERATE 0x080 /* the room box (and so the centre) comes from flat or collinear points */
#define SPTT_ROOM_WARN (SPTT_ROOM_FEW_POINTS | SPTT_ROOM_COLLINEAR | SPTT_ROOM_EMPTY | SPTT_ROOM_BOX_DEGENERATE)

/* ---------------------------------------------------------------------------------------------
** Boxes
*/
typedef struct sptt_box {
    double center[3];
    double size[3];     /* full edge lengths along the rows of axes */
    double axes[9];     /* row-major, rows = unit box axes, right-handed */
    double volume;
    unsigned flags;     /* SPTT_BOX_* */
    size_t nPoints;     /* points given */
    size_t nDistinct;   /* after dropping exact duplicates */
} sptt_box;

/*
** Axis order of every fitted box: the row closest to vertical is the third, pointing up; of the
** other two the longer is the first, with a non-negative x component. So an upright box reads
** (length, width, height) and its yaw is atan2(axes[1], axes[0]) in (-90, 90] degrees.
*/

/*
** Minimal-volume oriented box of n points (xyz: n x 3). See obb.c for the algorithm and its
** guarantee; the result never has a larger volume than the PCA, axis-aligned or upright boxes
** of the same points. Degenerate input gets a flat or zero-size box and a flag, never an error.
** Returns SPTT_OK, SPTT_EINVAL (n == 0 or a non-finite coordinate) or SPTT_ENOMEM.
*/
int sptt_obb_minimal(const double *xyz, size_t n, sptt_box *box);
/* The same box for a large float cloud (the room), without sorting all of it: the result does not
** depend on the order of the points either, but nDistinct is 0 (not counted) and the PCA frame
** tried is that of the points kept near the hull, not of all points. */
int sptt_obb_minimal_cloud(const float *xyz, size_t n, sptt_box *box);
/* The smallest box with a vertical axis: minimum-area rectangle of the XY hull (rotating
** calipers) times the z extent. */
int sptt_obb_upright(const double *xyz, size_t n, sptt_box *box);
/* Both of the above from one pass over the points (sorting, deduplication and the principal
** frame are shared): the same boxes, bit for bit, as the two calls. */
int sptt_obb_fit(const double *xyz, size_t n, sptt_box *minimal, sptt_box *upright);
/* Box along the principal axes of the points' covariance (what libraries call the OBB). */
int sptt_obb_pca(const double *xyz, size_t n, sptt_box *box);
/* Axis-aligned box, in the same representation. */
int sptt_obb_aabb(const double *xyz, size_t n, sptt_box *box);

/* 1 when p lies inside b, allowing tol metres outside each face. */
int sptt_box_contains(const sptt_box *b, const double *p, double tol);
/* The 8 corners, (8, 3). */
void sptt_box_corners(const sptt_box *b, double *corners);

/* ---------------------------------------------------------------------------------------------
** 2D alpha shape
**
** Triangles of the Delaunay triangulation with circumradius R < max_circumradius are kept. The
** mapping to other libraries' "alpha": Python alphashape alpha = 1/R (so alpha 5 => 0.2 m),
** CGAL Alpha_shape_2 alpha = R^2 (REGULARIZED mode), Open3D alpha = R.
*/
typedef struct sptt_alpha_shape {
    double area;           /* kept triangles plus the holes they enclose, m^2 */
    double areaKept;       /* kept triangles only */
    double holeArea;       /* enclosed holes that were filled */
    int nHoles;
    int nLoops;            /* outer boundary loops, largest first */
    int *loopStart;        /* (nLoops + 1) offsets into loopXY, in points */
    double *loopXY;        /* (loopStart[nLoops], 2), each loop counter-clockwise, not closed */
    size_t nPoints;        /* distinct points triangulated */
    size_t nBoundaryEdges;
    int nTiles;            /* Delaunay calls made (1 unless the input was split into tiles) */
    unsigned flags;        /* SPTT_ROOM_* subset: FEW_POINTS, COLLINEAR, CONVEX_HULL, EMPTY, SPLIT */
} sptt_alpha_shape;

/*
** xy: (n, 2). maxCircumradius <= 0 or infinite gives the convex hull, as the reference does for
** alpha <= 0; so do fewer than 4 distinct points. Large inputs are split into tiles whose
** triangulations are provably the same as the global one where it matters (alpha_shape.c).
*/
int sptt_alpha_shape_compute(const double *xy, size_t n, double maxCircumradius, sptt_alpha_shape *a);
void sptt_alpha_shape_free(sptt_alpha_shape *a);

/* ---------------------------------------------------------------------------------------------
** Room
*/
typedef struct sptt_room_opts {
    double alpha;        /* alphashape convention, 1/metres; <= 0 gives the convex hull */
    uint64_t sample;     /* points drawn with replacement for the alpha shape; 0 = every point */
    uint64_t seed;
} sptt_room_opts;

typedef struct sptt_room {
    double area;         /* alpha-shape area with enclosed holes filled, m^2 */
    double height;       /* ceiling_z - floor_z */
    double floorZ, ceilingZ;
    double center[3];    /* centre of the minimal-volume box of all points (reference convention) */
    sptt_box box;
    sptt_alpha_shape shape;
    unsigned flags;      /* SPTT_ROOM_* */
} sptt_room;

/*
** Room geometry from every point of a scene (xyz: n x 3, output frame). nyu40 (may be NULL) picks
** floor and ceiling points for the height; without enough of them (100 points), the 1st and 99th
** percentiles of z stand in.
*/
int sptt_room_compute(const float *xyz, const uint8_t *nyu40, size_t n, const sptt_room_opts *o, sptt_room *r);
void sptt_room_free(sptt_room *r);

/* ---------------------------------------------------------------------------------------------
** Top-down picture
*/
typedef struct sptt_topdown {
    const float *xyz;            /* (n, 3) scene points */
    const uint8_t *nyu40;        /* (n) class per point, or NULL */
    size_t n;
    const uint32_t *faces;       /* (nFaces, 3) mesh triangles filled from above, or NULL */
    size_t nFaces;
    const sptt_room *room;       /* boundary loops and height, or NULL */
    const sptt_box *boxes;       /* object boxes drawn as footprints */
    const uint8_t *boxClass;     /* (nBoxes) NYU40 id per box, for its colour */
    int nBoxes;
    const char *zTitle;          /* first line of the caption, or NULL */
} sptt_topdown;

/*
** Writes an orthographic view from above as an RGB PNG: mesh faces and points coloured by NYU40
** class (the highest surface wins; the ceiling and anything within 10% of the room height below
** it is left out),
** the room boundary in black, each box's footprint outlined in its class colour, a scale bar and
** a caption. The file is written atomically.
*/
int sptt_topdown_png(const char *zPath, const sptt_topdown *t);

/* ---------------------------------------------------------------------------------------------
** The dataset stage: sptt-geometry
*/
#define SPTT_OBB_MINIMAL 0
#define SPTT_OBB_UPRIGHT 1

typedef struct sptt_geometry_opts {
    sptt_room_opts room;
    int obbKind;             /* SPTT_OBB_*: the box stored in objects (ARKitScenes keeps its annotation) */
    int minPoints;           /* instances with fewer points get no box */
    const char *zPngDir;     /* write <dir>/<scene>.png when set */
    int quiet;               /* no warnings on stderr */
} sptt_geometry_opts;

/* The tool's defaults: alpha 5, a 10,000-point room draw with seed 0, minimal boxes, at least 4
** points per box, no picture, warnings on stderr. */
void sptt_geometry_opts_default(sptt_geometry_opts *o);

/* The options that shape a scene's geometry rows, as JSON: the first members of the
** geometry_params geometry stores (which then adds what the room was drawn from). */
#define SPTT_GEOMETRY_PARAMS_MAX 256
void sptt_geometry_params_key(const sptt_geometry_opts *o, char *zOut, size_t nOut);

/* --room-sample N|all (an sptt_cli FN option, pOut uint64_t*, 0 for all). Shared by sptt-geometry
** and sptt-build. */
int sptt_geometry_parse_room_sample(const char *zOpt, const char *zVal, void *pOut);

typedef struct sptt_geometry_report {
    double roomArea, roomHeight;
    int nBoxes;              /* objects that got a box */
    int nSkipped;            /* objects without one (too few points) */
    int nStructure;          /* wall, floor, ceiling rows left alone */
    int nWarnings;
    int invalidated;         /* the results changed: the scene's annotations were deleted */
    double seconds;          /* compute time, without reading the pack */
} sptt_geometry_report;

/*
** Computes one scene (its `scenes` row and pack) and writes the room fields, object boxes,
** object_boxes rows and geometry warnings in one transaction. A failure leaves the previous rows
** untouched. Results that differ from the stored ones delete the scene's annotations in the same
** transaction (rep->invalidated).
*/
int sptt_geometry_scene(sqlite3 *db, const char *zScene, const sptt_geometry_opts *o, sptt_geometry_report *rep);

#endif
