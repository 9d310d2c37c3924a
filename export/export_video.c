/*
** Video export (sptt_export.h): a scene's camera walk as H.264 in MP4 through FFmpeg's libraries,
** or as PNG frames.
**
** The MP4 is muxed into the temporary file of an sptt_atomic through a custom AVIOContext (the
** muxer seeks back to patch sizes, which a FILE allows), then synced and renamed. libx264 runs
** with one thread and the bit-exact flags, so the same pack and options give the same bytes.
*/
#include "sptt_export.h"

#include "sptt_annotate.h"
#include "sptt_common.h"
#include "sptt_dataset.h"
#include "sptt_image.h"
#include "sptt_png.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#define VIDEO_IO_BUFFER 65536
#define VIDEO_MAX_SIDE  8192   /* H.264 level limits are far below; a typo should not allocate GiBs */

void sptt_video_opts_default(sptt_video_opts *o)
{
    memset(o, 0, sizeof *o);
    o->width = 480;
    o->height = 352;
}

static int av_fail(int err, const char *zWhat)
{
    char z[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(err, z, sizeof z);
    return sptt_fail(err==AVERROR(ENOMEM) ? SPTT_ENOMEM : SPTT_EIO, "video: %s: %s", zWhat, z);
}

/* ---------------------------------------------------------------------------------------------
** Custom output: the atomic file's FILE
*/
#if LIBAVFORMAT_VERSION_MAJOR >= 61
static int io_write(void *opaque, const uint8_t *buf, int n)
#else
static int io_write(void *opaque, uint8_t *buf, int n)
#endif
{
    sptt_atomic *a = opaque;
    if( n <= 0 ) return 0;
    return fwrite(buf, 1, (size_t)n, a->fp)==(size_t)n ? n : AVERROR(EIO);
}

static int64_t io_seek(void *opaque, int64_t offset, int whence)
{
    sptt_atomic *a = opaque;
    if( whence==AVSEEK_SIZE ){
        off_t at = ftello(a->fp), end;
        if( at < 0 || fseeko(a->fp, 0, SEEK_END)!=0 ) return AVERROR(EIO);
        end = ftello(a->fp);
        if( fseeko(a->fp, at, SEEK_SET)!=0 ) return AVERROR(EIO);
        return end;
    }
    whence &= ~AVSEEK_FORCE;
    if( fseeko(a->fp, (off_t)offset, whence)!=0 ) return AVERROR(EIO);
    return ftello(a->fp);
}

/* ---------------------------------------------------------------------------------------------
** The encoder
*/
typedef struct video_enc {
    AVFormatContext *fmt;
    AVCodecContext *cc;
    AVStream *st;
    AVFrame *frame;
    AVPacket *pkt;
    struct SwsContext *sws;
    AVIOContext *io;
    int64_t pts;
    int headerWritten;
} video_enc;

static int enc_drain(video_enc *v)
{
    for(;;){
        int ret = avcodec_receive_packet(v->cc, v->pkt);
        if( ret==AVERROR(EAGAIN) || ret==AVERROR_EOF ) return SPTT_OK;
        if( ret < 0 ) return av_fail(ret, "encode");
        av_packet_rescale_ts(v->pkt, v->cc->time_base, v->st->time_base);
        v->pkt->stream_index = v->st->index;
        ret = av_interleaved_write_frame(v->fmt, v->pkt);
        av_packet_unref(v->pkt);
        if( ret < 0 ) return av_fail(ret, "write");
    }
}

static int enc_open(video_enc *v, sptt_atomic *a, int w, int h, double fps)
{
    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    AVRational rate = av_d2q(fps, 100000);
    uint8_t *ioBuf;
    int ret;
    memset(v, 0, sizeof *v);
    if( codec==NULL ) codec = avcodec_find_encoder(AV_CODEC_ID_H264);
    if( codec==NULL ) return sptt_fail(SPTT_EIO, "video: this FFmpeg has no H.264 encoder");
    if( (ret = avformat_alloc_output_context2(&v->fmt, NULL, "mp4", NULL)) < 0 ) return av_fail(ret, "mp4 muxer");
    v->fmt->flags |= AVFMT_FLAG_BITEXACT;
    if( (v->st = avformat_new_stream(v->fmt, NULL))==NULL ) return sptt_fail(SPTT_ENOMEM, "video: no stream");
    if( (v->cc = avcodec_alloc_context3(codec))==NULL ) return sptt_fail(SPTT_ENOMEM, "video: no encoder context");
    v->cc->width = w;
    v->cc->height = h;
    v->cc->pix_fmt = AV_PIX_FMT_YUV420P;
    v->cc->framerate = rate;
    v->cc->time_base = av_inv_q(rate);
    v->cc->gop_size = 32;
    v->cc->thread_count = 1;
    v->cc->flags |= AV_CODEC_FLAG_BITEXACT;
    if( v->fmt->oformat->flags & AVFMT_GLOBALHEADER ) v->cc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if( strcmp(codec->name, "libx264")==0 ){
        av_opt_set(v->cc->priv_data, "preset", "fast", 0);
        av_opt_set(v->cc->priv_data, "crf", "20", 0);
    }
    if( (ret = avcodec_open2(v->cc, codec, NULL)) < 0 ) return av_fail(ret, "open the H.264 encoder");
    if( (ret = avcodec_parameters_from_context(v->st->codecpar, v->cc)) < 0 ) return av_fail(ret, "stream parameters");
    v->st->time_base = v->cc->time_base;
    v->st->avg_frame_rate = rate;
    if( (ioBuf = av_malloc(VIDEO_IO_BUFFER))==NULL ) return sptt_fail(SPTT_ENOMEM, "video: out of memory");
    v->io = avio_alloc_context(ioBuf, VIDEO_IO_BUFFER, 1, a, NULL, io_write, io_seek);
    if( v->io==NULL ){
        av_free(ioBuf);
        return sptt_fail(SPTT_ENOMEM, "video: out of memory");
    }
    v->fmt->pb = v->io;
    v->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    if( (ret = avformat_write_header(v->fmt, NULL)) < 0 ) return av_fail(ret, "mp4 header");
    v->headerWritten = 1;
    if( (v->frame = av_frame_alloc())==NULL || (v->pkt = av_packet_alloc())==NULL ) return sptt_fail(SPTT_ENOMEM, "video: out of memory");
    v->frame->format = AV_PIX_FMT_YUV420P;
    v->frame->width = w;
    v->frame->height = h;
    if( (ret = av_frame_get_buffer(v->frame, 0)) < 0 ) return av_fail(ret, "frame buffer");
    v->sws = sws_getContext(w, h, AV_PIX_FMT_RGB24, w, h, AV_PIX_FMT_YUV420P, SWS_BICUBIC | SWS_ACCURATE_RND | SWS_BITEXACT,
                            NULL, NULL, NULL);
    if( v->sws==NULL ) return sptt_fail(SPTT_ENOMEM, "video: no colour converter");
    return SPTT_OK;
}

static int enc_frame(video_enc *v, const uint8_t *rgb)
{
    const uint8_t *src[1] = { rgb };
    int stride[1] = { 3 * v->cc->width }, ret;
    if( (ret = av_frame_make_writable(v->frame)) < 0 ) return av_fail(ret, "frame buffer");
    sws_scale(v->sws, src, stride, 0, v->cc->height, v->frame->data, v->frame->linesize);
    v->frame->pts = v->pts++;
    if( (ret = avcodec_send_frame(v->cc, v->frame)) < 0 ) return av_fail(ret, "encode");
    return enc_drain(v);
}

static int enc_finish(video_enc *v)
{
    int ret, rc;
    if( (ret = avcodec_send_frame(v->cc, NULL)) < 0 ) return av_fail(ret, "flush the encoder");
    if( (rc = enc_drain(v)) ) return rc;
    if( (ret = av_write_trailer(v->fmt)) < 0 ) return av_fail(ret, "mp4 trailer");
    avio_flush(v->io);
    if( v->io->error < 0 ) return av_fail(v->io->error, "write");
    return SPTT_OK;
}

static void enc_free(video_enc *v)
{
    sws_freeContext(v->sws);
    av_frame_free(&v->frame);
    av_packet_free(&v->pkt);
    avcodec_free_context(&v->cc);
    if( v->io ){
        av_freep(&v->io->buffer);
        avio_context_free(&v->io);
    }
    if( v->fmt ){
        v->fmt->pb = NULL;
        avformat_free_context(v->fmt);
    }
    memset(v, 0, sizeof *v);
}

/* ---------------------------------------------------------------------------------------------
** Frames
*/

/* Frame f of the pack at w x h: decoded and area-resized, or rendered when the pack has none. */
static int pack_frame(void *tj, const sptt_pack *p, const sptt_raster_index *idx, const char *zScene, uint64_t f, int w,
                      int h, uint8_t *rgb)
{
    int rc;
    if( p->imgEncoding==SPTT_IMG_NONE ) return sptt_render_frame(p, f, w, h, idx, rgb);
    {
        const uint8_t *a = p->imgData + p->imgOffsets[f];
        size_t len = (size_t)(p->imgOffsets[f + 1] - p->imgOffsets[f]);
        if( p->imgEncoding==SPTT_IMG_JPEG ){
            char zWhat[SPTT_SCENE_NAME_MAX + 48];
            snprintf(zWhat, sizeof zWhat, "scene '%s' frame %llu", zScene, (unsigned long long)f);
            return sptt_image_jpeg_to_rgb(tj, a, len, (int)p->imgWidth, (int)p->imgHeight, w, h, rgb, zWhat);
        }
        if( len!=(size_t)p->imgWidth * p->imgHeight * 3 ){
            return sptt_fail(SPTT_EFORMAT, "scene '%s' frame %llu: %zu image bytes for %ux%u RGB", zScene, (unsigned long long)f,
                             len, p->imgWidth, p->imgHeight);
        }
        if( (uint32_t)w==p->imgWidth && (uint32_t)h==p->imgHeight ){
            memcpy(rgb, a, len);
            return SPTT_OK;
        }
        rc = sptt_image_resize_rgb(a, (int)p->imgWidth, (int)p->imgHeight, rgb, w, h);
        if( rc ) sptt_fail_prefix(rc, "scene '%s' frame %llu: ", zScene, (unsigned long long)f);
        return rc;
    }
}

int sptt_export_video(sqlite3 *db, const char *zScene, const sptt_video_opts *o, const char *zMp4, const char *zPngDir,
                      sptt_video_result *r)
{
    sptt_scene_row row;
    sptt_pack p;
    sptt_raster_index idx;
    sptt_atomic f;
    video_enc v;
    sptt_progress prog;
    void *tj = NULL;
    uint8_t *rgb = NULL;
    double fps;
    int rc, open = 0, haveIdx = 0;
    memset(r, 0, sizeof *r);
    memset(&p, 0, sizeof p);
    memset(&row, 0, sizeof row);
    memset(&v, 0, sizeof v);
    if( zMp4==NULL && zPngDir==NULL ) return sptt_fail(SPTT_EINVAL, "video: neither an MP4 nor a PNG folder to write");
    if( o->width < 2 || o->height < 2 || o->width > VIDEO_MAX_SIDE || o->height > VIDEO_MAX_SIDE || o->width % 2 || o->height % 2 ){
        return sptt_fail(SPTT_EINVAL, "video: size %dx%d: both sides must be even, 2 to %d", o->width, o->height, VIDEO_MAX_SIDE);
    }
    if( !(o->fps >= 0 && o->fps <= 1000) ) return sptt_fail(SPTT_EINVAL, "video: fps %g is not in (0, 1000]", o->fps);
    if( (rc = sptt_scene_get(db, zScene, &row)) ) return rc;
    if( (rc = sptt_scene_read_pack(&row, 0, &p)) ){
        sptt_fail_prefix(rc, "scene '%s': ", zScene);
        goto done;
    }
    if( p.nFrames==0 ){
        rc = sptt_fail(SPTT_ESTATE, "scene '%s' has no camera walk: there is no video to make", zScene);
        goto done;
    }
    if( p.nFrames > INT32_MAX ){
        rc = sptt_fail(SPTT_EFORMAT, "scene '%s': %llu frames", zScene, (unsigned long long)p.nFrames);
        goto done;
    }
    if( p.imgEncoding==SPTT_IMG_NONE && p.nFaces==0 ){
        rc = sptt_fail(SPTT_ESTATE, "scene '%s': the pack has neither frame images nor a mesh to render them from", zScene);
        goto done;
    }
    if( p.imgEncoding!=SPTT_IMG_NONE && p.imgEncoding!=SPTT_IMG_JPEG && p.imgEncoding!=SPTT_IMG_RGB8 ){
        rc = sptt_fail(SPTT_EFORMAT, "scene '%s': pack image encoding %u is not one this toolkit reads", zScene, p.imgEncoding);
        goto done;
    }
    fps = o->fps > 0 ? o->fps : row.fps > 0 ? row.fps : 24;
    if( p.imgEncoding==SPTT_IMG_NONE ){
        if( (rc = sptt_raster_index_build(p.xyz, p.nPoints, p.faces, p.nFaces, &idx)) ) goto done;
        haveIdx = 1;
    }else if( p.imgEncoding==SPTT_IMG_JPEG && (tj = tjInitDecompress())==NULL ){
        rc = sptt_fail(SPTT_ENOMEM, "turbojpeg: %s", tjGetErrorStr2(NULL));
        goto done;
    }
    if( (rgb = sptt_malloc((size_t)o->width * (size_t)o->height * 3))==NULL ){
        rc = SPTT_ENOMEM;
        goto done;
    }
    if( zPngDir && (rc = sptt_mkdirs(zPngDir)) ) goto done;
    if( zMp4 ){
        av_log_set_level(AV_LOG_ERROR);
        if( (rc = sptt_atomic_open(&f, zMp4)) ) goto done;
        open = 1;
        if( (rc = enc_open(&v, &f, o->width, o->height, fps)) ) goto done;
    }
    sptt_progress_start(&prog, "frames", p.nFrames);
    for(uint64_t k = 0; k < p.nFrames && rc==SPTT_OK; k++){
        rc = pack_frame(tj, &p, haveIdx ? &idx : NULL, zScene, k, o->width, o->height, rgb);
        if( rc==SPTT_OK && zPngDir ){
            char zPath[SPTT_PATH_MAX];
            rc = sptt_pathf(zPath, sizeof zPath, "%s/%06llu.png", zPngDir, (unsigned long long)k);
            if( rc==SPTT_OK ) rc = sptt_png_write(zPath, rgb, o->width, o->height, 3, 8);
        }
        if( rc==SPTT_OK && zMp4 ) rc = enc_frame(&v, rgb);
        if( !o->quiet ) sptt_progress_step(&prog, 1);
    }
    sptt_progress_end(&prog);
    if( rc==SPTT_OK && zMp4 ) rc = enc_finish(&v);
    enc_free(&v);
    if( rc==SPTT_OK && zMp4 ){
        rc = sptt_atomic_commit(&f);
        open = 0;
    }
    if( rc==SPTT_OK ){
        r->nFrames = (int)p.nFrames;
        r->rendered = p.imgEncoding==SPTT_IMG_NONE;
        r->fps = fps;
    }

done:
    enc_free(&v);
    if( open ) sptt_atomic_abort(&f);
    if( tj ) tjDestroy(tj);
    if( haveIdx ) sptt_raster_index_free(&idx);
    free(rgb);
    sptt_pack_free(&p);
    sptt_scene_row_free(&row);
    return rc;
}
