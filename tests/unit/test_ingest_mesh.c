/*
** sptt-ingest mesh: small OBJ and glTF files written here, imported through Assimp; PLY refused.
*/
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sptt_common.h"
#include "sptt_db.h"
#include "sptt_ingest.h"
#include "dataset_testutil.h"
#include "sptt_dataset.h"
#include "sptt_schemas.h"

static char zTmp[64];
static char zDb[128];

static void setup(void)
{
    strcpy(zTmp, "/tmp/sptt_ingmesh_XXXXXX");
    cr_assert_not_null(mkdtemp(zTmp));
    snprintf(zDb, sizeof zDb, "%s/d.db", zTmp);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", zTmp);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(ingest_mesh, .init = setup, .fini = teardown);

static void write_text(const char *zName, const char *zText, char *zPath, size_t n)
{
    snprintf(zPath, n, "%s/%s", zTmp, zName);
    cr_assert_eq(sptt_write_file(zPath, zText, strlen(zText)), SPTT_OK, "%s", sptt_errmsg());
}

static int ingest(const char *zFile, const char *zMap, const char *zUp, sptt_ingest_result *r)
{
    sqlite3 *db;
    sptt_ingest_opts o;
    memset(&o, 0, sizeof o);
    o.zLabels = zMap;     /* the CLI passes --labels here for the mesh source */
    o.zUp = zUp;
    o.fps = 24;
    o.frameW = 320;
    o.frameH = 240;
    o.quiet = 1;
    cr_assert_eq(sptt_dataset_open(zDb, SPTT_DB_CREATE, &db), SPTT_OK, "%s", sptt_errmsg());
    int rc = sptt_ingest_mesh(db, zFile, &o, r);
    sptt_dataset_close(db);
    return rc;
}


static void pack_of(const char *zName, sptt_pack *p)
{
    read_scene_pack(zDb, zName, p, 0);
}

static int query_int(const char *zSql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_open(zDb, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, zSql, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    int v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static void query_text(const char *zSql, char *z, size_t n)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_open(zDb, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, zSql, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW, "%s", zSql);
    snprintf(z, n, "%s", sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0) : "(null)");
    sqlite3_finalize(s);
    sqlite3_close(db);
}

/*
** Three objects: a unit cube "Chair_01" 2 m tall (8 corners, 12 triangles, red material), a quad
** "TableTop" at height 0.7 (one 4-corner face) and a triangle "lamp_post" no map row names.
** Assimp's OBJ loader gives each face corner its own vertex: 36, 4 and 3 vertices.
*/
static const char zObj[] =
    "# test scene\n"
    "mtllib room.mtl\n"
    "o Chair_01\n"
    "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0 0 2\nv 1 0 2\nv 1 1 2\nv 0 1 2\n"
    "usemtl red\n"
    "f 1 3 2\nf 1 4 3\nf 5 6 7\nf 5 7 8\nf 1 2 6\nf 1 6 5\nf 2 3 7\nf 2 7 6\nf 3 4 8\nf 3 8 7\nf 4 1 5\nf 4 5 8\n"
    "o TableTop\n"
    "usemtl grey\n"
    "v 2 0 0.7\nv 3 0 0.7\nv 3 1 0.7\nv 2 1 0.7\n"
    "f 9 10 11 12\n"
    "o lamp_post\n"
    "v 4 0 0\nv 4.1 0 0\nv 4 0 1.5\n"
    "f 13 14 15\n";

static const char zMtl[] = "newmtl red\nKd 1 0 0\nnewmtl grey\nKd 0.5 0.5 0.5\n";

/* A comment, a CRLF line, a row found by the NYU40 class name and one with an explicit id. */
static const char zMap[] = "# name\traw label\tnyu40\r\nchair\tchair\r\ntable\ttable top\t7\n\n";

Test(ingest_mesh, obj_objects_become_named_labelled_instances)
{
    char zPath[200], zMapPath[200], z[200];
    sptt_ingest_result r;
    sptt_pack p;
    write_text("room.mtl", zMtl, zPath, sizeof zPath);
    write_text("map.tsv", zMap, zMapPath, sizeof zMapPath);
    write_text("room.obj", zObj, zPath, sizeof zPath);
    cr_assert_eq(ingest(zPath, zMapPath, NULL, &r), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_str_eq(r.zName, "room", "scene name = file stem");
    cr_assert_eq(r.nInstances, 3);
    cr_assert_eq(r.nPoints, 36u + 4u + 3u);
    cr_assert_eq(r.nFaces, 12u + 2u + 1u);

    query_text("SELECT raw_label FROM objects WHERE instance_id=1", z, sizeof z);
    cr_assert_str_eq(z, "chair");
    cr_assert_eq(query_int("SELECT nyu40_id FROM objects WHERE instance_id=1"), 5, "nyu40 from the class name");
    query_text("SELECT category FROM objects WHERE instance_id=1", z, sizeof z);
    cr_assert_str_eq(z, "chair");
    query_text("SELECT raw_label FROM objects WHERE instance_id=2", z, sizeof z);
    cr_assert_str_eq(z, "table top", "'table' matches 'TableTop' regardless of case");
    cr_assert_eq(query_int("SELECT nyu40_id FROM objects WHERE instance_id=2"), 7, "nyu40 from the third column");
    query_text("SELECT raw_label FROM objects WHERE instance_id=3", z, sizeof z);
    cr_assert_str_eq(z, "lamp_post", "unmatched: the node name");
    cr_assert_eq(query_int("SELECT nyu40_id FROM objects WHERE instance_id=3"), 0);
    cr_assert_eq(query_int("SELECT count(*) FROM scene_warnings WHERE code='unmatched_names' AND message LIKE '1 of 3 %'"), 1);
    cr_assert_eq(query_int("SELECT n_points FROM objects WHERE instance_id=1"), 36);
    cr_assert_eq(query_int("SELECT n_points FROM objects WHERE instance_id=2"), 4);
    cr_assert_eq(query_int("SELECT n_points FROM objects WHERE instance_id=3"), 3);

    pack_of("room", &p);
    float lo[3] = { 1e9, 1e9, 1e9 }, hi[3] = { -1e9, -1e9, -1e9 };
    for(uint64_t v = 0; v < p.nPoints; v++){
        int id = p.instance[v];
        cr_assert(id >= 1 && id <= 3);
        cr_assert_eq(p.nyu40[v], id==1 ? 5 : id==2 ? 7 : 0);
        if( id==1 ){
            cr_assert(p.rgb[3 * v]==255 && p.rgb[3 * v + 1]==0 && p.rgb[3 * v + 2]==0, "the material's diffuse colour");
            for(int k = 0; k < 3; k++){
                lo[k] = fminf(lo[k], p.xyz[3 * v + k]);
                hi[k] = fmaxf(hi[k], p.xyz[3 * v + k]);
            }
        }
        if( id==2 ){
            cr_assert_eq(p.rgb[3 * v], 128);
            cr_assert_float_eq(p.xyz[3 * v + 2], 0.7f, 1e-6, "z up by default for OBJ: kept as written");
        }
    }
    cr_assert(lo[0]==0 && lo[1]==0 && lo[2]==0 && hi[0]==1 && hi[1]==1 && hi[2]==2);
    /* Faces index within their own instance. */
    for(uint64_t f = 0; f < p.nFaces; f++){
        for(int k = 0; k < 3; k++) cr_assert_lt(p.faces[3 * f + k], p.nPoints);
        cr_assert_eq(p.instance[p.faces[3 * f]], p.instance[p.faces[3 * f + 1]]);
        cr_assert_eq(p.instance[p.faces[3 * f]], p.instance[p.faces[3 * f + 2]]);
    }
    json_t *meta = json_loads(p.zMeta, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(meta, "source")), "mesh");
    json_decref(meta);
    sptt_pack_free(&p);

    /* Unchanged: skipped. A changed .mtl (a file Assimp read besides the OBJ) is a change. */
    cr_assert_eq(ingest(zPath, zMapPath, NULL, &r), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(r.skipped, 1);
    char zMtlPath[200];
    write_text("room.mtl", "newmtl red\nKd 0 1 0\nnewmtl grey\nKd 0.5 0.5 0.5\n", zMtlPath, sizeof zMtlPath);
    cr_assert_eq(ingest(zPath, zMapPath, NULL, &r), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(r.skipped, 0);
    pack_of("room", &p);
    cr_assert(p.rgb[0]==0 && p.rgb[1]==255, "the new material colour");
    sptt_pack_free(&p);
    cr_assert_eq(query_int("SELECT count(*) FROM scenes"), 1);
}

Test(ingest_mesh, y_up_file_turned_to_z_up)
{
    char zPath[200];
    sptt_ingest_result r;
    sptt_pack p;
    write_text("room.mtl", zMtl, zPath, sizeof zPath);
    write_text("yup.obj", zObj, zPath, sizeof zPath);
    cr_assert_eq(ingest(zPath, NULL, "y", &r), SPTT_OK, "%s", sptt_errmsg());
    pack_of("yup", &p);
    /* (x, y, z) -> (x, -z, y): the chair's 2 m edge (file z) now runs along -y, its unit y extent
    ** goes up; the table top (file z = 0.7) lands at y = -0.7. */
    float lo[3] = { 1e9, 1e9, 1e9 }, hi[3] = { -1e9, -1e9, -1e9 };
    for(uint64_t v = 0; v < p.nPoints; v++){
        if( p.instance[v]==2 ) cr_assert_float_eq(p.xyz[3 * v + 1], -0.7f, 1e-6);
        if( p.instance[v]!=1 ) continue;
        for(int k = 0; k < 3; k++){
            lo[k] = fminf(lo[k], p.xyz[3 * v + k]);
            hi[k] = fmaxf(hi[k], p.xyz[3 * v + k]);
        }
    }
    cr_assert(lo[0]==0 && hi[0]==1, "x unchanged");
    cr_assert(lo[1]==-2 && hi[1]==0, "y = -z");
    cr_assert(lo[2]==0 && hi[2]==1, "z = y");
    cr_assert_eq(query_int("SELECT count(*) FROM scene_warnings WHERE code='unmatched_names' AND message LIKE 'no --labels%'"), 1);
    json_t *meta = json_loads(p.zMeta, 0, NULL), *a = json_object_get(meta, "alignment");
    double want[16] = { 1, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 1 };
    for(int i = 0; i < 16; i++) cr_assert_float_eq(json_number_value(json_array_get(a, (size_t)i)), want[i], 1e-12);
    json_decref(meta);
    sptt_pack_free(&p);
}

static void base64(const uint8_t *d, size_t n, char *out)
{
    static const char az[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for(size_t i = 0; i < n; i += 3){
        uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
        out[o++] = az[v >> 18 & 63];
        out[o++] = az[v >> 12 & 63];
        out[o++] = i + 1 < n ? az[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? az[v & 63] : '=';
    }
    out[o] = 0;
}

Test(ingest_mesh, gltf_node_transforms_applied_and_y_up_by_default)
{
    /* One triangle (0,0,0) (1,0,0) (0,1,0) in mesh "lampmesh", under node "Lamp_3" translated by
    ** (0, 2, 0), under node "Room" translated by (10, 0, 0); blue base colour. */
    uint8_t buf[44];
    float pos[9] = { 0, 0, 0, 1, 0, 0, 0, 1, 0 };
    uint16_t idx[3] = { 0, 1, 2 };
    char b64[80], zText[2400], zPath[200];
    memcpy(buf, pos, 36);
    memcpy(buf + 36, idx, 6);
    buf[42] = buf[43] = 0;
    base64(buf, 44, b64);
    snprintf(zText, sizeof zText,
             "{\"asset\":{\"version\":\"2.0\"},\"scene\":0,\"scenes\":[{\"nodes\":[0]}],"
             "\"nodes\":[{\"name\":\"Room\",\"translation\":[10,0,0],\"children\":[1]},"
             "{\"name\":\"Lamp_3\",\"translation\":[0,2,0],\"mesh\":0}],"
             "\"meshes\":[{\"name\":\"lampmesh\",\"primitives\":[{\"attributes\":{\"POSITION\":0},\"indices\":1,\"material\":0}]}],"
             "\"materials\":[{\"pbrMetallicRoughness\":{\"baseColorFactor\":[0,0,1,1]}}],"
             "\"buffers\":[{\"byteLength\":44,\"uri\":\"data:application/octet-stream;base64,%s\"}],"
             "\"bufferViews\":[{\"buffer\":0,\"byteOffset\":0,\"byteLength\":36},{\"buffer\":0,\"byteOffset\":36,\"byteLength\":6}],"
             "\"accessors\":[{\"bufferView\":0,\"componentType\":5126,\"count\":3,\"type\":\"VEC3\",\"min\":[0,0,0],\"max\":[1,1,0]},"
             "{\"bufferView\":1,\"componentType\":5123,\"count\":3,\"type\":\"SCALAR\"}]}", b64);
    write_text("lamp.gltf", zText, zPath, sizeof zPath);
    char zMapPath[200];
    write_text("map.tsv", "lamp\tlamp\n", zMapPath, sizeof zMapPath);
    sptt_ingest_result r;
    cr_assert_eq(ingest(zPath, zMapPath, NULL, &r), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(r.nInstances, 1);
    sptt_pack p;
    pack_of("lamp", &p);
    cr_assert_eq(p.nPoints, 3);
    cr_assert_eq(p.nFaces, 1);
    /* File frame: (10,2,0) (11,2,0) (10,3,0); turned z up: (x, -z, y). */
    float want[9] = { 10, 0, 2, 11, 0, 2, 10, 0, 3 };
    for(int i = 0; i < 9; i++) cr_assert_float_eq(p.xyz[i], want[i], 1e-6, "coordinate %d: %f", i, p.xyz[i]);
    for(int v = 0; v < 3; v++) cr_assert(p.rgb[3 * v]==0 && p.rgb[3 * v + 1]==0 && p.rgb[3 * v + 2]==255);
    cr_assert_eq(p.nyu40[0], 35, "lamp is NYU40 class 35");
    sptt_pack_free(&p);
    char z[100];
    query_text("SELECT raw_label FROM objects WHERE instance_id=1", z, sizeof z);
    cr_assert_str_eq(z, "lamp");
}

Test(ingest_mesh, ply_refused_with_a_pointer_to_the_other_sources)
{
    char zPath[200];
    sptt_ingest_result r;
    static const char zPly[] = "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
                               "property float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n"
                               "0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n";
    write_text("scan.PLY", zPly, zPath, sizeof zPath);
    cr_assert_eq(ingest(zPath, NULL, NULL, &r), SPTT_EINVAL);
    cr_assert_not_null(strstr(sptt_errmsg(), "scan.PLY"), "%s", sptt_errmsg());
    cr_assert_not_null(strstr(sptt_errmsg(), "0x0A"), "%s", sptt_errmsg());
    cr_assert_not_null(strstr(sptt_errmsg(), "sptt-ingest scannet"), "%s", sptt_errmsg());
    /* Named otherwise, recognised by its first line. */
    write_text("scan.obj", zPly, zPath, sizeof zPath);
    cr_assert_eq(ingest(zPath, NULL, NULL, &r), SPTT_EINVAL);
    cr_assert_eq(query_int("SELECT count(*) FROM scenes"), 0);
}

Test(ingest_mesh, bad_inputs_named)
{
    char zPath[200], zMapPath[200];
    sptt_ingest_result r;
    snprintf(zPath, sizeof zPath, "%s/absent.obj", zTmp);
    cr_assert_eq(ingest(zPath, NULL, NULL, &r), SPTT_EFORMAT);
    cr_assert_not_null(strstr(sptt_errmsg(), "absent.obj: missing file"), "%s", sptt_errmsg());

    write_text("room.mtl", zMtl, zPath, sizeof zPath);
    write_text("room.obj", zObj, zPath, sizeof zPath);
    write_text("map.tsv", "chair\tchair\nno tab on this line\n", zMapPath, sizeof zMapPath);
    cr_assert_eq(ingest(zPath, zMapPath, NULL, &r), SPTT_EFORMAT);
    cr_assert_not_null(strstr(sptt_errmsg(), "map.tsv: line 2"), "%s", sptt_errmsg());
    write_text("map.tsv", "chair\tchair\t41\n", zMapPath, sizeof zMapPath);
    cr_assert_eq(ingest(zPath, zMapPath, NULL, &r), SPTT_EFORMAT);
    cr_assert_not_null(strstr(sptt_errmsg(), "map.tsv: line 1: column 3"), "%s", sptt_errmsg());

    write_text("junk.obj", "this is not\x01 a mesh\n", zPath, sizeof zPath);
    cr_assert_eq(ingest(zPath, NULL, NULL, &r), SPTT_EFORMAT);
    cr_assert_not_null(strstr(sptt_errmsg(), "junk.obj"), "%s", sptt_errmsg());
    cr_assert_eq(query_int("SELECT count(*) FROM scenes"), 0);
}
