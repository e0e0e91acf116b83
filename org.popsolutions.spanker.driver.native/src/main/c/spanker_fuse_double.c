/*
 * spanker-fuse-double: a FUSE file system that plays the Spanker kernel driver, so tests reach the Java binding's
 * open/ioctl/pread/pwrite/close through the real kernel. It exposes
 *
 *   MOUNTPOINT/spankerctl      PING, GET_VERSION; ENOTTY for any other command
 *   MOUNTPOINT/spanker0..N-1   ABI 0.2 only: card DDR by pread/pwrite, WORK_SUBMIT and WORK_WAIT; ENOTTY otherwise
 *
 * FUSE passes a restricted ioctl through with the size and direction the command number encodes, so the numbers
 * of spanker_abi.h work unchanged. Variants (docs/driver-abi.md):
 *
 *   --cards N          card nodes (default 2)          --version X.Y.Z   reported ABI version (default 0.1.0)
 *   --gap I            leave spankerI out               --no-control     no spankerctl
 *   --ping-errno E     PING fails with errno E          --short-version B  GET_VERSION fills only B bytes
 *   --reserved V       reserved field of the version    --mode OCTAL      permission bits of every node (default 0660)
 *   --ddr BYTES        DDR per card (default 16 MiB)
 *
 * The double checks the permission bits itself, for every caller (root included), so a test running as root
 * still sees EACCES on a node it may not open. Runs single-threaded in the foreground; prints "mounted" once
 * the mount is up, and unmounts on SIGTERM/SIGINT or when unmounted with fusermount3 -u.
 */
#define FUSE_USE_VERSION 35
#define _GNU_SOURCE
#include <errno.h>
#include <fuse_lowlevel.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spanker_abi.h"
#include "spanker_q4.h"

#define ROOT_INODE 1
#define CONTROL_INODE 2
#define FIRST_CARD_INODE 3
#define MAX_CARDS 256
#define COMPLETIONS 64

struct completion {
    uint64_t ticket;
    int32_t status;
    uint64_t nanos;
};

struct card {
    uint8_t *ddr; /* allocated on first use */
    uint64_t submitted;
    struct completion done[COMPLETIONS];
};

static struct {
    int cards;
    int gap;
    int control;
    int ping_errno;
    int short_version;
    uint16_t major, minor, patch, reserved;
    mode_t mode;
    uint64_t ddr_bytes;
    struct card card[MAX_CARDS];
} double_state = {
    .cards = 2, .gap = -1, .control = 1, .short_version = 8, .minor = 1, .mode = 0660, .ddr_bytes = 16u << 20,
};

static int work_path(void) {
    return double_state.major == 0 && double_state.minor >= 2;
}

static int card_exists(int index) {
    return index >= 0 && index < double_state.cards && index != double_state.gap;
}

static int card_of(fuse_ino_t inode) {
    if (inode < FIRST_CARD_INODE) {
        return -1;
    }
    uint64_t index = inode - FIRST_CARD_INODE;
    return index < MAX_CARDS && card_exists((int) index) ? (int) index : -1;
}

static int node_exists(fuse_ino_t inode) {
    return inode == ROOT_INODE || (inode == CONTROL_INODE && double_state.control) || card_of(inode) >= 0;
}

static void fill_stat(fuse_ino_t inode, struct stat *st) {
    memset(st, 0, sizeof *st);
    st->st_ino = inode;
    if (inode == ROOT_INODE) {
        st->st_mode = S_IFDIR | 0755;
        st->st_nlink = 2;
        return;
    }
    st->st_mode = S_IFREG | double_state.mode;
    st->st_nlink = 1;
    st->st_size = card_of(inode) >= 0 && work_path() ? (off_t) double_state.ddr_bytes : 0;
}

static void reply_entry(fuse_req_t req, fuse_ino_t inode) {
    struct fuse_entry_param entry;
    memset(&entry, 0, sizeof entry);
    entry.ino = inode;
    entry.attr_timeout = 0;
    entry.entry_timeout = 0;
    fill_stat(inode, &entry.attr);
    fuse_reply_entry(req, &entry);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
    if (parent != ROOT_INODE) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    if (strcmp(name, "spankerctl") == 0 && double_state.control) {
        reply_entry(req, CONTROL_INODE);
        return;
    }
    int index;
    char tail;
    if (sscanf(name, "spanker%d%c", &index, &tail) == 1 && index >= 0 && index < MAX_CARDS && card_exists(index)) {
        char canonical[32];
        snprintf(canonical, sizeof canonical, "spanker%d", index);
        if (strcmp(canonical, name) == 0) {
            reply_entry(req, FIRST_CARD_INODE + (fuse_ino_t) index);
            return;
        }
    }
    fuse_reply_err(req, ENOENT);
}

static void op_getattr(fuse_req_t req, fuse_ino_t inode, struct fuse_file_info *fi) {
    (void) fi;
    if (!node_exists(inode)) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    struct stat st;
    fill_stat(inode, &st);
    fuse_reply_attr(req, &st, 0);
}

static void add_entry(fuse_req_t req, char *buffer, size_t size, size_t *used, const char *name, fuse_ino_t inode,
                      off_t next) {
    struct stat st;
    fill_stat(inode, &st);
    size_t needed = fuse_add_direntry(req, NULL, 0, name, NULL, 0);
    if (*used + needed <= size) {
        fuse_add_direntry(req, buffer + *used, size - *used, name, &st, next);
    }
    *used += needed;
}

static void op_readdir(fuse_req_t req, fuse_ino_t inode, size_t size, off_t offset, struct fuse_file_info *fi) {
    (void) fi;
    if (inode != ROOT_INODE) {
        fuse_reply_err(req, ENOTDIR);
        return;
    }
    /* Entry i has offset i + 1: ".", "..", spankerctl, then the cards. */
    char *buffer = calloc(1, size == 0 ? 1 : size);
    if (buffer == NULL) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    size_t used = 0;
    off_t position = 0;
    for (int entry = 0; entry < 3 + MAX_CARDS && used <= size; entry++) {
        char name[32];
        fuse_ino_t node;
        if (entry == 0 || entry == 1) {
            snprintf(name, sizeof name, entry == 0 ? "." : "..");
            node = ROOT_INODE;
        } else if (entry == 2) {
            if (!double_state.control) {
                continue;
            }
            snprintf(name, sizeof name, "spankerctl");
            node = CONTROL_INODE;
        } else {
            if (!card_exists(entry - 3)) {
                continue;
            }
            snprintf(name, sizeof name, "spanker%d", entry - 3);
            node = FIRST_CARD_INODE + (fuse_ino_t) (entry - 3);
        }
        position = entry + 1;
        if (entry < offset) {
            continue;
        }
        size_t before = used;
        add_entry(req, buffer, size, &used, name, node, position);
        if (used > size) {
            used = before;
            break;
        }
    }
    fuse_reply_buf(req, buffer, used);
    free(buffer);
}

/* The owner of every node is the mounting user; group and others get what --mode gives them. */
static int may_open(fuse_req_t req, int flags) {
    const struct fuse_ctx *caller = fuse_req_ctx(req);
    mode_t bits = double_state.mode;
    mode_t granted = caller->uid == getuid() ? (bits >> 6) & 7 : caller->gid == getgid() ? (bits >> 3) & 7 : bits & 7;
    mode_t wanted = (flags & O_ACCMODE) == O_RDONLY ? 4 : (flags & O_ACCMODE) == O_WRONLY ? 2 : 6;
    return (granted & wanted) == wanted;
}

static void op_open(fuse_req_t req, fuse_ino_t inode, struct fuse_file_info *fi) {
    if (inode == ROOT_INODE) {
        fuse_reply_err(req, EISDIR);
        return;
    }
    if (!node_exists(inode)) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    if (!may_open(req, fi->flags)) {
        fuse_reply_err(req, EACCES);
        return;
    }
    /* Every read and write reaches the double: DDR contents change under the page cache when a matmul runs. */
    fi->direct_io = 1;
    fi->keep_cache = 0;
    fuse_reply_open(req, fi);
}

static uint8_t *ddr_of(int index) {
    struct card *card = &double_state.card[index];
    if (card->ddr == NULL) {
        card->ddr = calloc(1, double_state.ddr_bytes);
    }
    return card->ddr;
}

static void op_read(fuse_req_t req, fuse_ino_t inode, size_t size, off_t offset, struct fuse_file_info *fi) {
    (void) fi;
    int index = card_of(inode);
    if (index < 0 || !work_path()) {
        fuse_reply_err(req, EINVAL); /* the 0.1 driver has no read */
        return;
    }
    uint8_t *ddr = ddr_of(index);
    if (ddr == NULL) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    if (offset < 0 || (uint64_t) offset >= double_state.ddr_bytes) {
        fuse_reply_buf(req, NULL, 0);
        return;
    }
    uint64_t left = double_state.ddr_bytes - (uint64_t) offset;
    fuse_reply_buf(req, (const char *) ddr + offset, size < left ? size : left);
}

static void op_write(fuse_req_t req, fuse_ino_t inode, const char *data, size_t size, off_t offset,
                     struct fuse_file_info *fi) {
    (void) fi;
    int index = card_of(inode);
    if (index < 0 || !work_path()) {
        fuse_reply_err(req, EINVAL);
        return;
    }
    uint8_t *ddr = ddr_of(index);
    if (ddr == NULL) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    if (offset < 0 || (uint64_t) offset >= double_state.ddr_bytes) {
        fuse_reply_err(req, ENOSPC);
        return;
    }
    uint64_t left = double_state.ddr_bytes - (uint64_t) offset;
    size_t count = size < left ? size : left;
    memcpy(ddr + offset, data, count);
    fuse_reply_write(req, count);
}

static int64_t now_nanos(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t) t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* bytes = rows·(k/values)·block, or 0 with *overflow set */
static uint64_t operand_bytes(uint64_t rows, uint64_t k, uint64_t values, uint64_t block, int *overflow) {
    unsigned __int128 total = (unsigned __int128) rows * (k / values) * block;
    if (total > UINT64_MAX) {
        *overflow = 1;
        return 0;
    }
    return (uint64_t) total;
}

static int in_ddr(uint64_t address, uint64_t bytes) {
    return address <= double_state.ddr_bytes && bytes <= double_state.ddr_bytes - address;
}

static int overlaps(uint64_t a, uint64_t a_bytes, uint64_t b, uint64_t b_bytes) {
    return a_bytes != 0 && b_bytes != 0 && a < b + b_bytes && b < a + a_bytes;
}

/* What the card's matmul unit does with one descriptor: checks it, then OUT = A·Bᵀ in its DDR. */
static int32_t run_matmul(uint8_t *ddr, const struct spanker_work_submit *work) {
    uint64_t values, block;
    if (work->op == SPANKER_OP_MATMUL_Q4_K) {
        values = Q4_K_VALUES;
        block = Q4_K_BYTES;
    } else if (work->op == SPANKER_OP_MATMUL_Q4_0) {
        values = Q4_0_VALUES;
        block = Q4_0_BYTES;
    } else {
        return SPANKER_WORK_BAD_OP;
    }
    if (work->k == 0 || work->k % values != 0) {
        return SPANKER_WORK_BAD_DIMS;
    }
    int overflow = 0;
    uint64_t a_bytes = operand_bytes(work->m, work->k, values, block, &overflow);
    uint64_t b_bytes = operand_bytes(work->n, work->k, values, block, &overflow);
    uint64_t out_bytes = operand_bytes(work->m, work->n, 1, 4, &overflow);
    if (overflow) {
        return SPANKER_WORK_BAD_DIMS;
    }
    if (!in_ddr(work->a_addr, a_bytes) || !in_ddr(work->b_addr, b_bytes) || !in_ddr(work->out_addr, out_bytes)
            || overlaps(work->out_addr, out_bytes, work->a_addr, a_bytes)
            || overlaps(work->out_addr, out_bytes, work->b_addr, b_bytes)) {
        return SPANKER_WORK_OUT_OF_RANGE;
    }
    if (work->m == 0 || work->n == 0) {
        return SPANKER_WORK_DONE;
    }
    /* Two decoded rows at a time: memory stays 8·k bytes whatever m and n are. */
    float *a_row = malloc(work->k * sizeof(float));
    float *b_row = malloc(work->k * sizeof(float));
    if (a_row == NULL || b_row == NULL) {
        free(a_row);
        free(b_row);
        return SPANKER_WORK_NO_MEMORY;
    }
    void (*decode)(const uint8_t *, uint64_t, float *) =
            work->op == SPANKER_OP_MATMUL_Q4_K ? spanker_q4_k_decode : spanker_q4_0_decode;
    uint64_t row_bytes = work->k / values * block;
    for (uint64_t i = 0; i < work->m; i++) {
        decode(ddr + work->a_addr + i * row_bytes, work->k, a_row);
        for (uint64_t j = 0; j < work->n; j++) {
            decode(ddr + work->b_addr + j * row_bytes, work->k, b_row);
            float value = spanker_dot(a_row, b_row, work->k);
            memcpy(ddr + work->out_addr + 4 * (i * work->n + j), &value, 4); /* little-endian host */
        }
    }
    free(a_row);
    free(b_row);
    return SPANKER_WORK_DONE;
}

static void card_ioctl(fuse_req_t req, int index, unsigned int cmd, const void *in, size_t in_size) {
    struct card *card = &double_state.card[index];
    if (!work_path()) {
        fuse_reply_err(req, ENOTTY);
        return;
    }
    if (cmd == SPANKER_IOC_WORK_SUBMIT && in_size == sizeof(struct spanker_work_submit)) {
        struct spanker_work_submit work;
        memcpy(&work, in, sizeof work);
        if (work.flags != 0 || work.ticket != 0) {
            fuse_reply_err(req, EINVAL);
            return;
        }
        uint8_t *ddr = ddr_of(index);
        if (ddr == NULL) {
            fuse_reply_err(req, ENOMEM);
            return;
        }
        work.ticket = ++card->submitted;
        /* The driver's half of the dispatch: the descriptor goes into the card's command FIFO. */
        if (in_ddr(SPANKER_FIFO_ADDR, sizeof work)) {
            memcpy(ddr + SPANKER_FIFO_ADDR, &work, sizeof work);
        }
        int64_t start = now_nanos();
        struct completion *slot = &card->done[work.ticket % COMPLETIONS];
        slot->status = run_matmul(ddr, &work);
        slot->nanos = (uint64_t) (now_nanos() - start);
        slot->ticket = work.ticket;
        fuse_reply_ioctl(req, 0, &work, sizeof work);
        return;
    }
    if (cmd == SPANKER_IOC_WORK_WAIT && in_size == sizeof(struct spanker_work_wait)) {
        struct spanker_work_wait wait;
        memcpy(&wait, in, sizeof wait);
        if (wait.ticket == 0 || wait.ticket > card->submitted || wait.reserved != 0 || wait.reserved2 != 0) {
            fuse_reply_err(req, EINVAL);
            return;
        }
        struct completion *slot = &card->done[wait.ticket % COMPLETIONS];
        if (slot->ticket != wait.ticket) {
            fuse_reply_err(req, ENOENT); /* completed too long ago: its record was reused */
            return;
        }
        wait.status = slot->status;
        wait.device_nanos = slot->nanos;
        fuse_reply_ioctl(req, 0, &wait, sizeof wait);
        return;
    }
    fuse_reply_err(req, ENOTTY);
}

static void op_ioctl(fuse_req_t req, fuse_ino_t inode, unsigned int cmd, void *arg, struct fuse_file_info *fi,
                     unsigned flags, const void *in, size_t in_size, size_t out_size) {
    (void) arg;
    (void) fi;
    (void) out_size;
    if (flags & FUSE_IOCTL_COMPAT) {
        fuse_reply_err(req, ENOSYS); /* 32-bit callers are not part of the ABI */
        return;
    }
    if (inode == CONTROL_INODE) {
        if (cmd == SPANKER_IOC_PING) {
            if (double_state.ping_errno != 0) {
                fuse_reply_err(req, double_state.ping_errno);
            } else {
                fuse_reply_ioctl(req, 0, NULL, 0);
            }
            return;
        }
        if (cmd == SPANKER_IOC_GET_VERSION) {
            struct spanker_version version = {double_state.major, double_state.minor, double_state.patch,
                                              double_state.reserved};
            fuse_reply_ioctl(req, 0, &version, (size_t) double_state.short_version);
            return;
        }
        fuse_reply_err(req, ENOTTY);
        return;
    }
    int index = card_of(inode);
    if (index >= 0) {
        card_ioctl(req, index, cmd, in, in_size);
        return;
    }
    fuse_reply_err(req, ENOTTY);
}

static const struct fuse_lowlevel_ops operations = {
    .lookup = op_lookup,
    .getattr = op_getattr,
    .readdir = op_readdir,
    .open = op_open,
    .read = op_read,
    .write = op_write,
    .ioctl = op_ioctl,
};

static int usage(const char *program, const char *problem) {
    fprintf(stderr, "%s: %s\nusage: %s [--cards N] [--gap I] [--no-control] [--version X.Y.Z] [--reserved V] "
            "[--short-version BYTES] [--ping-errno E] [--mode OCTAL] [--ddr BYTES] MOUNTPOINT\n",
            program, problem, program);
    return 2;
}

static int parse_long(const char *text, long low, long high, long *value) {
    char *end;
    errno = 0;
    long parsed = strtol(text, &end, 0);
    if (errno != 0 || end == text || *end != '\0' || parsed < low || parsed > high) {
        return 0;
    }
    *value = parsed;
    return 1;
}

int main(int argc, char **argv) {
    const char *mountpoint = NULL;
    for (int i = 1; i < argc; i++) {
        const char *option = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        long number;
        if (strcmp(option, "--no-control") == 0) {
            double_state.control = 0;
            continue;
        }
        if (strncmp(option, "--", 2) != 0) {
            if (mountpoint != NULL) {
                return usage(argv[0], "more than one mount point");
            }
            mountpoint = option;
            continue;
        }
        if (value == NULL) {
            return usage(argv[0], "an option lacks its value");
        }
        i++;
        if (strcmp(option, "--cards") == 0 && parse_long(value, 0, MAX_CARDS, &number)) {
            double_state.cards = (int) number;
        } else if (strcmp(option, "--gap") == 0 && parse_long(value, 0, MAX_CARDS - 1, &number)) {
            double_state.gap = (int) number;
        } else if (strcmp(option, "--ping-errno") == 0 && parse_long(value, 1, 4095, &number)) {
            double_state.ping_errno = (int) number;
        } else if (strcmp(option, "--short-version") == 0 && parse_long(value, 0, 8, &number)) {
            double_state.short_version = (int) number;
        } else if (strcmp(option, "--reserved") == 0 && parse_long(value, 0, 65535, &number)) {
            double_state.reserved = (uint16_t) number;
        } else if (strcmp(option, "--mode") == 0 && parse_long(value, 0, 0777, &number)) {
            double_state.mode = (mode_t) number;
        } else if (strcmp(option, "--ddr") == 0 && parse_long(value, 0x40000, 1L << 32, &number)) {
            double_state.ddr_bytes = (uint64_t) number;
        } else if (strcmp(option, "--version") == 0) {
            unsigned major, minor, patch;
            char tail;
            if (sscanf(value, "%u.%u.%u%c", &major, &minor, &patch, &tail) != 3 || major > 65535 || minor > 65535
                    || patch > 65535) {
                return usage(argv[0], "--version needs MAJOR.MINOR.PATCH");
            }
            double_state.major = (uint16_t) major;
            double_state.minor = (uint16_t) minor;
            double_state.patch = (uint16_t) patch;
        } else {
            fprintf(stderr, "%s: bad option or value: %s %s\n", argv[0], option, value);
            return 2;
        }
    }
    if (mountpoint == NULL) {
        return usage(argv[0], "no mount point");
    }
    char *fuse_argv[] = {argv[0], "-o", "fsname=spanker-double,subtype=spanker-double", NULL};
    struct fuse_args args = FUSE_ARGS_INIT(3, fuse_argv);
    struct fuse_session *session = fuse_session_new(&args, &operations, sizeof operations, NULL);
    if (session == NULL) {
        return 1;
    }
    int status = 1;
    if (fuse_set_signal_handlers(session) == 0) {
        if (fuse_session_mount(session, mountpoint) == 0) {
            printf("mounted %s\n", mountpoint);
            fflush(stdout);
            status = fuse_session_loop(session) == 0 ? 0 : 1;
            fuse_session_unmount(session);
        }
        fuse_remove_signal_handlers(session);
    }
    fuse_session_destroy(session);
    for (int i = 0; i < MAX_CARDS; i++) {
        free(double_state.card[i].ddr);
    }
    return status;
}
