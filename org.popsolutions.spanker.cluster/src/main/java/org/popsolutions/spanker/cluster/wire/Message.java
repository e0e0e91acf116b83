package org.popsolutions.spanker.cluster.wire;

import java.util.List;
import org.popsolutions.spanker.api.cluster.TaskParam;

/** The payloads, one record per message type (field order and widths in docs/cluster-wire.md). */
public sealed interface Message {
    MessageType type();

    /** A liveness probe and its answer: the sender's coordinate, status (0 live, 1 suspect, 2 dead), time, pid. */
    record Heartbeat(Address node, int status, long timestampMillis, String process, String note) implements Message {
        public MessageType type() {
            return MessageType.HEARTBEAT;
        }
    }

    /** A bundle's bytes, addressed by the first 8 bytes of their SHA-256. */
    record RegCode(long blobHash, byte[] bytes) implements Message {
        public MessageType type() {
            return MessageType.REG_CODE;
        }
    }

    record RegData(long handle, int depth, byte[] bytes) implements Message {
        public MessageType type() {
            return MessageType.REG_DATA;
        }
    }

    /**
     * Run kernel {@code name}. For INPUT and INOUT parameters the scalar field carries the packed coordinate of the
     * node holding the tensor's bytes; for OUTPUT it carries the tensor's size in bytes.
     */
    record CallTask(String name, long taskId, int scopeDepth, List<TaskParam> params) implements Message {
        public MessageType type() {
            return MessageType.CALL_TASK;
        }
    }

    record ScopeExit(int depth) implements Message {
        public MessageType type() {
            return MessageType.SCOPE_EXIT;
        }
    }

    /** The node lacks the code of kernel {@code name} for task {@code taskId}: send REG_CODE, then the call again. */
    record RetryWithCode(long taskId, String name) implements Message {
        public MessageType type() {
            return MessageType.RETRY_WITH_CODE;
        }
    }

    /** Status 0 is success; any other status is a failure whose reason is {@code message}. */
    record TaskComplete(long taskId, int status, byte[] result, String message) implements Message {
        public MessageType type() {
            return MessageType.TASK_COMPLETE;
        }
    }

    record Shutdown(boolean graceful) implements Message {
        public MessageType type() {
            return MessageType.SHUTDOWN;
        }
    }

    record TensorLookup(long requestId, long handle) implements Message {
        public MessageType type() {
            return MessageType.TENSOR_LOOKUP;
        }
    }

    /** The answer to a lookup: status 0 with the bytes, or a failure status with no bytes. */
    record TensorData(long requestId, long handle, int status, byte[] bytes) implements Message {
        public MessageType type() {
            return MessageType.TENSOR_DATA;
        }
    }

    record TensorFree(long[] handles) implements Message {
        public MessageType type() {
            return MessageType.TENSOR_FREE;
        }
    }
}
