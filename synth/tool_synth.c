/*
** sptt-synth: writes synthetic scenes in the ScanNet v2 and ARKitScenes 3DOD on-disk formats.
*/
#include "sptt_cli.h"
#include "sptt_common.h"
#include "sptt_synth.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    static sptt_synth_opts o;
    static int format, scale, color[2];
    int rc, first, status;
    const sptt_option aOpt[] = {
        { "out", SPTT_ARG_STRING, &o.zOut, .zArg = "DIR", .zHelp = "output root (created)", .flags = SPTT_OPT_REQUIRED },
        { "scenes", SPTT_ARG_INT, &o.nScenes, 1, 10000, .zArg = "N", .zHelp = "scenes per format (default 2)" },
        { "seed", SPTT_ARG_U64, &o.seed, 0, 9007199254740992.0, .zArg = "S", .zHelp = "random seed (default 0)" },
        { "format", SPTT_ARG_CHOICE, &format, .zChoices = "scannet|arkitscenes|both", .zArg = "F",
          .zHelp = "scannet, arkitscenes or both (default scannet)" },
        { "scale", SPTT_ARG_CHOICE, &scale, .zChoices = "small|scannet", .zArg = "S",
          .zHelp = "small: a few thousand vertices, ~100 frames: quick, for tests (default);\n"
                   "scannet: real sizes: 80k-150k vertices, 1,600 frames (ARKitScenes: 600)" },
        { "color-size", SPTT_ARG_SIZE, color, .zArg = "WxH", .zHelp = ".sens colour size (default 320x240 small, 1296x968 scannet)" },
        { "frames", SPTT_ARG_INT, &o.nFrames, 2, 100000, .zArg = "N", .zHelp = "frames per scene instead of the scale's default" },
        { 0 },
    };
    sptt_cli cli = {
        .zTool = "sptt-synth",
        .zSynopsis = "--out DIR [--scenes N] [--seed S] [--format scannet|arkitscenes|both]\n"
                     " [--scale small|scannet] [--color-size WxH] [--frames N] [--quiet]",
        .zAbout = "Writes N synthetic scenes per format below DIR, each in its dataset's own layout\n"
                  "(DIR/scannet/scans/<scene>/, DIR/arkitscenes/3dod/Training/<video>/) with a\n"
                  "ground_truth.json of the exact geometry. The same seed gives byte-identical files.",
        .aOpt = aOpt,
    };
    o.nScenes = 2;
    if( (status = sptt_cli_parse(&cli, argc, argv, &first)) >= 0 ) return status;
    o.quiet = cli.quiet;
    o.colorW = color[0];
    o.colorH = color[1];
    o.formats = format==0 ? SPTT_SYNTH_SCANNET : format==1 ? SPTT_SYNTH_ARKIT : SPTT_SYNTH_SCANNET | SPTT_SYNTH_ARKIT;
    o.scale = scale==0 ? SPTT_SCALE_SMALL : SPTT_SCALE_SCANNET;
    double t0 = sptt_now();
    rc = sptt_synth_run(&o);
    if( rc ){
        sptt_report("sptt-synth", "%s", sptt_errmsg());
        return sptt_exit_status(rc);
    }
    if( !o.quiet ){
        int nFormats = format==2 ? 2 : 1;
        printf("sptt-synth: %s written below %s in %.1f s\n", sptt_plural((long)o.nScenes * nFormats, "scene", NULL), o.zOut,
               sptt_now() - t0);
    }
    return 0;
}
