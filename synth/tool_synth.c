/*
** sptt-synth: writes synthetic scenes in the ScanNet v2 and ARKitScenes 3DOD on-disk formats.
*/
#include "sptt_common.h"
#include "sptt_synth.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char zUsage[] =
    "usage: sptt-synth --out DIR [--scenes N] [--seed S] [--format scannet|arkitscenes|both]\n"
    "                  [--scale small|scannet] [--color-size WxH] [--frames N] [--quiet]\n"
    "\n"
    "Writes N synthetic scenes per format below DIR, each in its dataset's own layout\n"
    "(DIR/scannet/scans/<scene>/, DIR/arkitscenes/3dod/Training/<video>/) with a\n"
    "ground_truth.json of the exact geometry. The same seed gives byte-identical files.\n"
    "\n"
    "  --out DIR          output root (created)\n"
    "  --scenes N         scenes per format (default 2)\n"
    "  --seed S           random seed (default 0)\n"
    "  --format F         scannet, arkitscenes or both (default scannet)\n"
    "  --scale small      a few thousand vertices, ~100 frames: quick, for tests (default)\n"
    "  --scale scannet    real sizes: 80k-150k vertices, 1,600 frames (ARKitScenes: 600)\n"
    "  --color-size WxH   .sens colour size (default 320x240 small, 1296x968 scannet)\n"
    "  --frames N         frames per scene instead of the scale's default\n"
    "  --quiet            no per-scene summary lines\n"
    "  --help, --version\n";

int main(int argc, char **argv)
{
    sptt_synth_opts o;
    int rc;
    static const struct option aOpt[] = {
        {"out", required_argument, 0, 'o'},  {"scenes", required_argument, 0, 'n'},
        {"seed", required_argument, 0, 's'}, {"format", required_argument, 0, 'f'},
        {"scale", required_argument, 0, 'c'}, {"color-size", required_argument, 0, 'z'},
        {"frames", required_argument, 0, 'F'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},       {"version", no_argument, 0, 'V'},
        {0, 0, 0, 0},
    };
    memset(&o, 0, sizeof o);
    o.nScenes = 2;
    o.formats = SPTT_SYNTH_SCANNET;
    o.scale = SPTT_SCALE_SMALL;
    for(;;){
        int c = getopt_long(argc, argv, "", aOpt, NULL);
        long v;
        if( c==-1 ) break;
        rc = SPTT_OK;
        switch( c ){
        case 'o': o.zOut = optarg; break;
        case 'n': rc = sptt_parse_int("--scenes", optarg, 1, 10000, &v); o.nScenes = (int)v; break;
        case 's': {
            double d;
            rc = sptt_parse_double("--seed", optarg, 0, 9007199254740992.0, &d);
            o.seed = (uint64_t)d;
            break;
        }
        case 'f':
            if( strcmp(optarg, "scannet")==0 ) o.formats = SPTT_SYNTH_SCANNET;
            else if( strcmp(optarg, "arkitscenes")==0 ) o.formats = SPTT_SYNTH_ARKIT;
            else if( strcmp(optarg, "both")==0 ) o.formats = SPTT_SYNTH_SCANNET | SPTT_SYNTH_ARKIT;
            else rc = sptt_fail(SPTT_EINVAL, "--format: '%s' is not scannet, arkitscenes or both", optarg);
            break;
        case 'c':
            if( strcmp(optarg, "small")==0 ) o.scale = SPTT_SCALE_SMALL;
            else if( strcmp(optarg, "scannet")==0 ) o.scale = SPTT_SCALE_SCANNET;
            else rc = sptt_fail(SPTT_EINVAL, "--scale: '%s' is not small or scannet", optarg);
            break;
        case 'z': rc = sptt_parse_size("--color-size", optarg, &o.colorW, &o.colorH); break;
        case 'F': rc = sptt_parse_int("--frames", optarg, 2, 100000, &v); o.nFrames = (int)v; break;
        case 'q': o.quiet = 1; break;
        case 'h': fputs(zUsage, stdout); return 0;
        case 'V': printf("sptt-synth %s\n", SPTT_VERSION); return 0;
        default: fputs(zUsage, stderr); return 2;
        }
        if( rc ){
            sptt_report("sptt-synth", "%s", sptt_errmsg());
            return 2;
        }
    }
    if( optind < argc ){
        sptt_report("sptt-synth", "unexpected argument '%s' (see --help)", argv[optind]);
        return 2;
    }
    if( o.zOut==NULL ){
        sptt_report("sptt-synth", "--out DIR is required (see --help)");
        return 2;
    }
    rc = sptt_synth_run(&o);
    if( rc ){
        sptt_report("sptt-synth", "%s", sptt_errmsg());
        return sptt_exit_status(rc);
    }
    return 0;
}
