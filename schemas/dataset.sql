-- Spatial-TTT dataset, schema version 4.
--
-- One SQLite file holds every scene's metadata, geometry, annotations and QA. The heavy per-point
-- data lives in zstd scene packs (schemas/README.md); `scenes.pack_path` points at them.
-- The file is marked with PRAGMA application_id = 0x53505454 ('SPTT') and user_version = 4,
-- which schemas/dataset.c sets on creation and checks on every open; a version 1, 2 or 3 file is
-- upgraded in place the first time a tool opens it for writing (schemas/dataset.c says how).
--
-- Conventions: lengths in metres, areas in square metres, angles in degrees, coordinates in the
-- scene's output frame (ScanNet: axis-aligned; ARKitScenes and meshes: their world frame), z up.
-- Every child table cascades from `scenes`, so deleting a scene row removes all that hangs off it.

CREATE TABLE scenes (
    scene_id       INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL UNIQUE,
    source         TEXT    NOT NULL CHECK (source IN ('scannet', 'arkitscenes', 'mesh')),
    pack_path      TEXT,             -- relative to the database's folder, or absolute when the
                                     -- packs live outside it; read only through schemas/
    input_hash     TEXT,             -- XXH64 of the decoded inputs, hex; equal hash => skip re-ingest
    n_points       INTEGER,
    n_faces        INTEGER,
    n_frames       INTEGER,
    fps            REAL,
    alignment      TEXT,             -- JSON 16 numbers, row-major raw->output transform
    room_area      REAL,
    room_height    REAL,
    room_center_x  REAL,
    room_center_y  REAL,
    room_center_z  REAL,
    room_polygon   TEXT,             -- JSON [[[x,y],...], ...]: outer boundary loop(s)
    room_flags     INTEGER,          -- geometry warnings, bit set documented in geometry/
    geometry_params TEXT,            -- JSON: alpha, sample, seed, obb mode used
    ingested_at    TEXT,
    geometry_at    TEXT,
    annotated_at   TEXT,
    -- version 2: what each stage was built on, so a changed upstream result is never mistaken
    -- for a current one.
    split          TEXT CHECK (split IN ('train', 'val', 'test')),
    geometry_input TEXT,             -- input_hash of the pack geometry ran on
    geometry_hash  TEXT,             -- XXH64 of the geometry results (room and boxes), hex
    annotated_geometry TEXT,         -- geometry_hash the current annotations were made from
    -- version 3: the options the current annotations were made with, so a build run again with
    -- the same options can tell its finished scenes from the ones to redo.
    annotate_params TEXT             -- JSON, written by annotate; NULL when not annotated
) STRICT;

-- Warnings a stage recorded for a scene (missing alignment, unknown raw labels, skipped frames...).
CREATE TABLE scene_warnings (
    scene_id  INTEGER NOT NULL REFERENCES scenes(scene_id) ON DELETE CASCADE,
    stage     TEXT    NOT NULL,
    code      TEXT    NOT NULL,
    message   TEXT    NOT NULL
) STRICT;
CREATE INDEX scene_warnings_scene ON scene_warnings(scene_id, stage);

CREATE TABLE objects (
    scene_id     INTEGER NOT NULL REFERENCES scenes(scene_id) ON DELETE CASCADE,
    instance_id  INTEGER NOT NULL CHECK (instance_id > 0),
    raw_label    TEXT    NOT NULL,
    nyu40_id     INTEGER NOT NULL CHECK (nyu40_id BETWEEN 0 AND 40),
    label        TEXT    NOT NULL,   -- NYU40 class name ('unannotated' for 0)
    category     TEXT,               -- QA category name, NULL when the object takes no part in QA
    n_points     INTEGER NOT NULL,
    center_x REAL, center_y REAL, center_z REAL,
    size_x   REAL, size_y   REAL, size_z   REAL,
    axes         TEXT,               -- JSON 9 numbers, row-major; rows are the box axes
    box_kind     TEXT CHECK (box_kind IN ('minimal', 'upright', 'annotation')),
    box_flags    INTEGER,            -- degenerate-fit flags from geometry
    PRIMARY KEY (scene_id, instance_id)
) STRICT;

-- Every box fitted or given for an object, so the one not chosen by --obb stays available.
CREATE TABLE object_boxes (
    scene_id     INTEGER NOT NULL,
    instance_id  INTEGER NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('minimal', 'upright', 'annotation')),
    center_x REAL NOT NULL, center_y REAL NOT NULL, center_z REAL NOT NULL,
    size_x   REAL NOT NULL, size_y   REAL NOT NULL, size_z   REAL NOT NULL,
    axes         TEXT    NOT NULL,
    volume       REAL    NOT NULL,
    flags        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scene_id, instance_id, kind),
    FOREIGN KEY (scene_id, instance_id) REFERENCES objects(scene_id, instance_id) ON DELETE CASCADE
) STRICT;

-- The camera walk after alignment: one row per kept frame, in stream order.
CREATE TABLE frames (
    scene_id      INTEGER NOT NULL REFERENCES scenes(scene_id) ON DELETE CASCADE,
    frame_index   INTEGER NOT NULL CHECK (frame_index >= 0),  -- index in the pack's trajectory
    source_index  INTEGER NOT NULL,   -- index in the source stream (.sens frame, pose file, traj line)
    timestamp     REAL    NOT NULL,   -- seconds from the first kept frame
    pose          TEXT    NOT NULL,   -- JSON 16 numbers, row-major camera-to-world (OpenCV camera)
    fx REAL NOT NULL, fy REAL NOT NULL, cx REAL NOT NULL, cy REAL NOT NULL,
    width         INTEGER NOT NULL,
    height        INTEGER NOT NULL,
    has_image     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scene_id, frame_index)
) STRICT;

-- Per-frame 2D projection of each visible instance.
CREATE TABLE visibility (
    scene_id     INTEGER NOT NULL,
    frame_index  INTEGER NOT NULL,
    instance_id  INTEGER NOT NULL,
    pixels       INTEGER NOT NULL CHECK (pixels > 0),
    x0 INTEGER NOT NULL, y0 INTEGER NOT NULL, x1 INTEGER NOT NULL, y1 INTEGER NOT NULL,
    PRIMARY KEY (scene_id, frame_index, instance_id),
    FOREIGN KEY (scene_id, frame_index) REFERENCES frames(scene_id, frame_index) ON DELETE CASCADE,
    FOREIGN KEY (scene_id, instance_id) REFERENCES objects(scene_id, instance_id) ON DELETE CASCADE
) STRICT;

-- Scene graph: subject <relation> object [and object2], e.g. lamp supported_by table.
CREATE TABLE relations (
    scene_id     INTEGER NOT NULL REFERENCES scenes(scene_id) ON DELETE CASCADE,
    subject_id   INTEGER NOT NULL,
    relation     TEXT    NOT NULL,
    object_id    INTEGER NOT NULL,
    object2_id   INTEGER,
    value        REAL,                -- distance or angle backing the relation, when one applies
    frame_index  INTEGER              -- the viewpoint for view-dependent relations
) STRICT;
CREATE INDEX relations_scene ON relations(scene_id, subject_id);

CREATE TABLE qa (
    qa_id          INTEGER PRIMARY KEY,
    scene_id       INTEGER NOT NULL REFERENCES scenes(scene_id) ON DELETE CASCADE,
    question_type  TEXT    NOT NULL,
    question       TEXT    NOT NULL,
    options        TEXT,              -- JSON array of "A. ..." strings, NULL for numeric answers
    ground_truth   TEXT    NOT NULL,
    mc_answer      TEXT,              -- letter of the correct option, NULL for numeric answers
    objects        TEXT,              -- JSON: the categories / instances the question is about
    prompt         TEXT    NOT NULL,  -- the full model prompt (wrapper + question + options)
    meta           TEXT,              -- JSON: values behind the answer (distances, angles, times)
    seed           INTEGER NOT NULL
) STRICT;
CREATE INDEX qa_scene ON qa(scene_id, question_type);

CREATE TABLE descriptions (
    scene_id   INTEGER NOT NULL REFERENCES scenes(scene_id) ON DELETE CASCADE,
    variant    INTEGER NOT NULL,
    text       TEXT    NOT NULL,
    facts      TEXT,                  -- JSON: the facts the text states, for checking
    seed       INTEGER NOT NULL,
    PRIMARY KEY (scene_id, variant)
) STRICT;

-- One row per tool invocation that opened the dataset for writing.
CREATE TABLE runs (
    run_id      INTEGER PRIMARY KEY,
    tool        TEXT    NOT NULL,
    version     TEXT    NOT NULL,
    arguments   TEXT    NOT NULL,
    started_at  TEXT    NOT NULL,
    ended_at    TEXT,
    status      INTEGER,             -- exit status; NULL while running or after a crash
    summary     TEXT                 -- JSON counts the tool reported
) STRICT;

-- VERSION 4 TABLES. schemas/dataset.c upgrades a version 3 file by running this file's text from
-- the line above to its end, so everything below must be new in version 4, and nothing above.
--
-- Long-horizon streams: several scenes walked one after another as one long video, and questions
-- asked at a frame of that walk (global frame index: the frames of the rooms before, then the
-- frame's index in its own walk). A stream spans scenes, so it hangs off no scene: its scenes are
-- named, with the annotation state the questions were made from, and the stream is current while
-- every one of them still holds that state (sptt_streams_load reads only current streams).
CREATE TABLE streams (
    stream_id   INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    seed        INTEGER NOT NULL,
    n_rooms     INTEGER NOT NULL CHECK (n_rooms >= 1),
    n_frames    INTEGER NOT NULL CHECK (n_frames >= 1),   -- the whole walk
    params      TEXT    NOT NULL,     -- JSON: the options and scene list it was drawn with
    created_at  TEXT    NOT NULL
) STRICT;

CREATE TABLE stream_scenes (
    stream_id    INTEGER NOT NULL REFERENCES streams(stream_id) ON DELETE CASCADE,
    position     INTEGER NOT NULL CHECK (position >= 0),   -- room 0, 1, ... in walking order
    scene_name   TEXT    NOT NULL,   -- by name: a re-ingest or a merge gives the scene a new id
    frame_offset INTEGER NOT NULL CHECK (frame_offset >= 0),
    n_frames     INTEGER NOT NULL CHECK (n_frames >= 1),
    annotated_geometry TEXT NOT NULL, -- the scene's state the questions were made from
    annotate_params    TEXT,
    PRIMARY KEY (stream_id, position)
) STRICT;

CREATE TABLE stream_qa (
    stream_qa_id   INTEGER PRIMARY KEY,
    stream_id      INTEGER NOT NULL REFERENCES streams(stream_id) ON DELETE CASCADE,
    question_type  TEXT    NOT NULL,  -- stream_object_counting, stream_appearance_order, stream_first_room
    query_frame    INTEGER NOT NULL CHECK (query_frame >= 0),  -- global frame the question is asked at
    question       TEXT    NOT NULL,
    options        TEXT,              -- JSON array of "A. ..." strings, NULL for numeric answers
    ground_truth   TEXT    NOT NULL,  -- as VSI-Bench's test records: the letter, or the number as text
    answer_text    TEXT    NOT NULL,  -- the correct option's text, or the number
    objects        TEXT,              -- JSON: the categories and instances the question is about
    prompt         TEXT    NOT NULL,  -- the full model prompt (wrapper + question + options)
    meta           TEXT               -- JSON: the values behind the answer
) STRICT;
CREATE INDEX stream_qa_stream ON stream_qa(stream_id, query_frame);
