/*
 * The Spanker kernel driver's userspace ABI (docs/driver-abi.md): 0.1 as the original driver defines it,
 * 0.2 as proposed here (DMA by pread/pwrite on /dev/spankerN, work submission and completion ioctls).
 * Shared by the JNI binding and the FUSE driver double so both sides agree on every number and layout.
 */
#ifndef SPANKER_ABI_H
#define SPANKER_ABI_H

#include <stdint.h>
#include <linux/ioctl.h>

#define SPANKER_IOC_MAGIC 0xE3

struct spanker_version {
    uint16_t major;
    uint16_t minor;
    uint16_t patch;
    uint16_t reserved; /* 0 */
};

/* ABI 0.2: one matmul work item, submitted on /dev/spankerN. */
struct spanker_work_submit {
    uint32_t op;       /* SPANKER_OP_* */
    uint32_t flags;    /* 0 */
    uint64_t m, k, n;
    uint64_t a_addr;   /* card DDR offsets, written with pwrite before the submission */
    uint64_t b_addr;
    uint64_t out_addr; /* read with pread after the completion */
    uint64_t ticket;   /* out: the work item's sequence number on this card, from 1 */
};

/* ABI 0.2: waits for one work item and reports how it ended. */
struct spanker_work_wait {
    uint64_t ticket;   /* in */
    int32_t status;    /* out: SPANKER_WORK_* */
    uint32_t reserved; /* 0 */
    uint64_t device_nanos; /* out: time the card spent on the item */
    uint64_t reserved2;    /* 0 */
};

#define SPANKER_OP_MATMUL_Q4_K 1u
#define SPANKER_OP_MATMUL_Q4_0 2u

#define SPANKER_WORK_DONE 0
#define SPANKER_WORK_BAD_DIMS 1      /* k zero or not a block multiple, sizes overflow */
#define SPANKER_WORK_OUT_OF_RANGE 2  /* an operand or OUT runs past the card's DDR, or OUT overlaps an operand */
#define SPANKER_WORK_BAD_OP 3        /* op unknown to the card */
#define SPANKER_WORK_NO_MEMORY 4     /* the card ran out of working memory for the item */

/* Card DDR addresses of the original trace; the command FIFO is where the driver places descriptors. */
#define SPANKER_FIFO_ADDR 0x4000u
#define SPANKER_A_ADDR 0x10000u
#define SPANKER_B_ADDR 0x20000u
#define SPANKER_OUT_ADDR 0x30000u

#define SPANKER_IOC_PING _IO(SPANKER_IOC_MAGIC, 0x01)
#define SPANKER_IOC_GET_VERSION _IOR(SPANKER_IOC_MAGIC, 0x02, struct spanker_version)
#define SPANKER_IOC_WORK_SUBMIT _IOWR(SPANKER_IOC_MAGIC, 0x03, struct spanker_work_submit)
#define SPANKER_IOC_WORK_WAIT _IOWR(SPANKER_IOC_MAGIC, 0x04, struct spanker_work_wait)

_Static_assert(sizeof(struct spanker_version) == 8, "spanker_version is 8 bytes");
_Static_assert(sizeof(struct spanker_work_submit) == 64, "spanker_work_submit is 64 bytes");
_Static_assert(sizeof(struct spanker_work_wait) == 32, "spanker_work_wait is 32 bytes");

#endif
