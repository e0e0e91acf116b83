package org.popsolutions.spanker.driver.jni;

/** The ioctl numbers and layouts of spanker_abi.h (docs/driver-abi.md), as Java sees them. */
final class Abi {
    static final String CONTROL_NODE = "spankerctl";
    static final String CARD_NODE_PREFIX = "spanker";
    /** SPEC §4: card nodes are probed from 0 up to this index. */
    static final int MAX_CARD_INDEX = 255;

    static final int IOC_PING = 0x0000E301;
    static final int IOC_GET_VERSION = 0x8008E302;
    static final int IOC_WORK_SUBMIT = 0xC040E303;
    static final int IOC_WORK_WAIT = 0xC020E304;

    static final int VERSION_BYTES = 8;
    static final int WORK_SUBMIT_BYTES = 64;
    static final int WORK_WAIT_BYTES = 32;

    static final int OP_MATMUL_Q4_K = 1;
    static final int OP_MATMUL_Q4_0 = 2;

    private Abi() {
    }
}
