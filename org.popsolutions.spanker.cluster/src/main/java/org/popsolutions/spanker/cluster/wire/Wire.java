package org.popsolutions.spanker.cluster.wire;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.cluster.ParamType;
import org.popsolutions.spanker.api.cluster.TaskParam;

/**
 * Encodes and decodes messages: big-endian throughout, every field checked against docs/cluster-wire.md, a
 * payload must be consumed exactly (trailing bytes are an error).
 */
public final class Wire {
    public static final int MAX_NAME_BYTES = 256;
    public static final int MAX_PARAMS = 1024;
    public static final int MAX_STRING_BYTES = 4096;
    public static final int MAX_FREE_HANDLES = 4096;
    public static final int MAX_SCOPE_DEPTH = 8;
    private static final int PARAM_BYTES = 17;

    private Wire() {
    }

    /** One message: header and payload together, ready for a socket. */
    public static byte[] encode(Address sender, Address target, Message message) {
        byte[] payload = payload(message);
        ByteBuffer out = ByteBuffer.allocate(Header.SIZE + payload.length);
        out.putInt(Header.MAGIC);
        out.put((byte) Header.VERSION);
        out.put((byte) message.type().code());
        out.put((byte) sender.level());
        out.put((byte) target.level());
        out.putInt(payload.length);
        putAddress(out, sender);
        putAddress(out, target);
        out.putShort((short) 0);
        out.put(payload);
        return out.array();
    }

    private static void putAddress(ByteBuffer out, Address address) {
        out.put((byte) address.l6());
        out.put((byte) address.l5());
        out.put((byte) address.l4());
        out.putShort((short) address.l3());
    }

    public static Header decodeHeader(byte[] bytes) {
        if (bytes.length != Header.SIZE) {
            throw new WireException("header is " + bytes.length + " bytes, expected " + Header.SIZE);
        }
        ByteBuffer in = ByteBuffer.wrap(bytes);
        int magic = in.getInt();
        if (magic != Header.MAGIC) {
            throw new WireException("magic is 0x" + Integer.toHexString(magic) + ", expected 0x4c51524d (\"LQRM\")");
        }
        int version = in.get() & 0xFF;
        if (version != Header.VERSION) {
            throw new WireException("protocol version " + version + " is not supported (expected " + Header.VERSION
                    + ")");
        }
        MessageType type = MessageType.ofCode(in.get() & 0xFF);
        int senderLevel = in.get() & 0xFF;
        int targetLevel = in.get() & 0xFF;
        long payloadSize = in.getInt() & 0xFFFF_FFFFL;
        if (payloadSize > Header.MAX_PAYLOAD) {
            throw new WireException("payload size " + payloadSize + " exceeds the limit of " + Header.MAX_PAYLOAD
                    + " bytes");
        }
        Address sender = new Address(senderLevel, in.get() & 0xFF, in.get() & 0xFF, in.get() & 0xFF,
                in.getShort() & 0xFFFF);
        Address target = new Address(targetLevel, in.get() & 0xFF, in.get() & 0xFF, in.get() & 0xFF,
                in.getShort() & 0xFFFF);
        if (target.isUser() && type != MessageType.TASK_COMPLETE && type != MessageType.HEARTBEAT
                && type != MessageType.RETRY_WITH_CODE && type != MessageType.TENSOR_DATA) {
            throw new WireException(type + " cannot be addressed to a user; users only receive answers");
        }
        int padding = in.getShort();
        if (padding != 0) {
            throw new WireException("header padding is " + padding + ", expected 0");
        }
        return new Header(type, sender, target, (int) payloadSize);
    }

    /** Reads one whole message; {@code null} at a clean end of stream before a header. */
    public static Received read(InputStream stream) throws IOException {
        DataInputStream in = stream instanceof DataInputStream d ? d : new DataInputStream(stream);
        byte[] headerBytes = new byte[Header.SIZE];
        int first = in.read();
        if (first < 0) {
            return null;
        }
        headerBytes[0] = (byte) first;
        in.readFully(headerBytes, 1, Header.SIZE - 1);
        Header header = decodeHeader(headerBytes);
        byte[] payload = new byte[header.payloadSize()];
        try {
            in.readFully(payload);
        } catch (EOFException e) {
            throw new WireException("stream ended inside a " + header.type() + " payload of " + header.payloadSize()
                    + " bytes");
        }
        return new Received(header, decodePayload(header.type(), payload));
    }

    /** A decoded message with its header. */
    public record Received(Header header, Message message) {
    }

    static byte[] payload(Message message) {
        Out out = new Out();
        if (message instanceof Message.Heartbeat m) {
            out.u8(m.node().l6()).u8(m.node().l5()).u8(m.node().l4()).u16(m.node().l3()).u8(m.node().level());
            out.u8(m.status()).i64(m.timestampMillis()).string(m.process()).string(m.note());
        } else if (message instanceof Message.RegCode m) {
            out.i64(m.blobHash()).u32(m.bytes().length).bytes(m.bytes());
        } else if (message instanceof Message.RegData m) {
            out.i64(m.handle()).u16(m.depth()).u32(m.bytes().length).bytes(m.bytes());
        } else if (message instanceof Message.CallTask m) {
            out.name(m.name()).u32(m.taskId()).u16(m.scopeDepth()).u32(m.params().size());
            for (TaskParam p : m.params()) {
                out.u8(p.type().code()).i64(p.handle()).i64(p.scalar());
            }
        } else if (message instanceof Message.ScopeExit m) {
            out.u16(m.depth());
        } else if (message instanceof Message.RetryWithCode m) {
            out.u32(m.taskId()).name(m.name());
        } else if (message instanceof Message.TaskComplete m) {
            out.u32(m.taskId()).i32(m.status()).u32(m.result().length).bytes(m.result()).string(m.message());
        } else if (message instanceof Message.Shutdown m) {
            out.u8(m.graceful() ? 1 : 0);
        } else if (message instanceof Message.TensorLookup m) {
            out.u32(m.requestId()).i64(m.handle());
        } else if (message instanceof Message.TensorData m) {
            out.u32(m.requestId()).i64(m.handle()).i32(m.status()).u32(m.bytes().length).bytes(m.bytes());
        } else if (message instanceof Message.TensorFree m) {
            out.u32(m.handles().length);
            for (long handle : m.handles()) {
                out.i64(handle);
            }
        } else {
            throw new IllegalArgumentException("no encoding for " + message.getClass().getName());
        }
        return out.toArray();
    }

    public static Message decodePayload(MessageType type, byte[] payload) {
        In in = new In(payload, type);
        Message message = switch (type) {
            case HEARTBEAT -> {
                int l6 = in.u8();
                int l5 = in.u8();
                int l4 = in.u8();
                int l3 = in.u16();
                int level = in.u8();
                int status = in.u8();
                if (status > 2) {
                    throw new WireException("HEARTBEAT status " + status + " is unknown (0 live, 1 suspect, 2 dead)");
                }
                yield new Message.Heartbeat(new Address(level, l6, l5, l4, l3), status, in.i64(), in.string(),
                        in.string());
            }
            case REG_CODE -> {
                long hash = in.i64();
                yield new Message.RegCode(hash, in.bytes(in.u32("code size")));
            }
            case REG_DATA -> {
                long handle = in.handle();
                int depth = in.depth();
                yield new Message.RegData(handle, depth, in.bytes(in.u32("data size")));
            }
            case CALL_TASK -> {
                String name = in.name();
                long taskId = in.u32();
                int depth = in.depth();
                long count = in.u32();
                if (count > MAX_PARAMS) {
                    throw new WireException("CALL_TASK has " + count + " parameters, the limit is " + MAX_PARAMS);
                }
                in.need(count * PARAM_BYTES, "parameters");
                List<TaskParam> params = new ArrayList<>((int) count);
                for (int i = 0; i < count; i++) {
                    int code = in.u8();
                    ParamType paramType;
                    try {
                        paramType = ParamType.ofCode(code);
                    } catch (IllegalArgumentException e) {
                        throw new WireException("parameter " + i + ": " + e.getMessage());
                    }
                    long handle = in.i64();
                    long scalar = in.i64();
                    if (paramType != ParamType.SCALAR && handle == 0) {
                        throw new WireException("parameter " + i + " is " + paramType + " with tensor handle 0");
                    }
                    if (paramType == ParamType.SCALAR && handle != 0) {
                        throw new WireException("parameter " + i + " is SCALAR with a tensor handle; it must be 0");
                    }
                    params.add(new TaskParam(paramType, handle, scalar));
                }
                yield new Message.CallTask(name, taskId, depth, params);
            }
            case SCOPE_EXIT -> new Message.ScopeExit(in.depth());
            case RETRY_WITH_CODE -> new Message.RetryWithCode(in.u32(), in.name());
            case TASK_COMPLETE -> {
                long taskId = in.u32();
                int status = in.i32();
                byte[] result = in.bytes(in.u32("result size"));
                String text = in.string();
                if (status == Status.OK && !text.isEmpty()) {
                    throw new WireException("TASK_COMPLETE with status 0 carries an error message");
                }
                if (status != Status.OK && text.isEmpty()) {
                    throw new WireException("TASK_COMPLETE with failure status " + status + " names no reason");
                }
                yield new Message.TaskComplete(taskId, status, result, text);
            }
            case SHUTDOWN -> {
                int graceful = in.u8();
                if (graceful > 1) {
                    throw new WireException("SHUTDOWN graceful flag is " + graceful + ", expected 0 or 1");
                }
                yield new Message.Shutdown(graceful == 1);
            }
            case TENSOR_LOOKUP -> new Message.TensorLookup(in.u32(), in.handle());
            case TENSOR_DATA -> {
                long requestId = in.u32();
                long handle = in.handle();
                int status = in.i32();
                byte[] bytes = in.bytes(in.u32("tensor size"));
                if (status != Status.OK && bytes.length != 0) {
                    throw new WireException("TENSOR_DATA with failure status " + status + " carries bytes");
                }
                yield new Message.TensorData(requestId, handle, status, bytes);
            }
            case TENSOR_FREE -> {
                long count = in.u32();
                if (count == 0 || count > MAX_FREE_HANDLES) {
                    throw new WireException("TENSOR_FREE lists " + count + " handles, expected 1 to "
                            + MAX_FREE_HANDLES);
                }
                in.need(count * 8, "handles");
                long[] handles = new long[(int) count];
                for (int i = 0; i < count; i++) {
                    handles[i] = in.handle();
                }
                yield new Message.TensorFree(handles);
            }
        };
        in.end();
        return message;
    }

    private static final class Out {
        private byte[] buffer = new byte[64];
        private int size;

        private void ensure(int more) {
            if (size + more > buffer.length) {
                buffer = java.util.Arrays.copyOf(buffer, Math.max(buffer.length * 2, size + more));
            }
        }

        Out u8(int value) {
            ensure(1);
            buffer[size++] = (byte) value;
            return this;
        }

        Out u16(int value) {
            return u8(value >>> 8).u8(value);
        }

        Out i32(int value) {
            return u16(value >>> 16).u16(value & 0xFFFF);
        }

        Out u32(long value) {
            if (value < 0 || value > 0xFFFF_FFFFL) {
                throw new IllegalArgumentException("value " + value + " does not fit an unsigned 32-bit field");
            }
            return i32((int) value);
        }

        Out i64(long value) {
            return i32((int) (value >>> 32)).i32((int) value);
        }

        Out bytes(byte[] bytes) {
            ensure(bytes.length);
            System.arraycopy(bytes, 0, buffer, size, bytes.length);
            size += bytes.length;
            return this;
        }

        Out name(String name) {
            byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
            if (utf8.length == 0 || utf8.length > MAX_NAME_BYTES) {
                throw new IllegalArgumentException("kernel name '" + name + "' must be 1 to " + MAX_NAME_BYTES
                        + " bytes of UTF-8");
            }
            return u32(utf8.length).bytes(utf8);
        }

        Out string(String text) {
            byte[] utf8 = (text == null ? "" : text).getBytes(StandardCharsets.UTF_8);
            if (utf8.length > MAX_STRING_BYTES) {
                utf8 = java.util.Arrays.copyOf(utf8, MAX_STRING_BYTES);
            }
            return u16(utf8.length).bytes(utf8);
        }

        byte[] toArray() {
            return java.util.Arrays.copyOf(buffer, size);
        }
    }

    private static final class In {
        private final ByteBuffer buffer;
        private final MessageType type;

        In(byte[] payload, MessageType type) {
            this.buffer = ByteBuffer.wrap(payload);
            this.type = type;
        }

        void need(long bytes, String what) {
            if (bytes > buffer.remaining()) {
                throw new WireException(type + " payload ends inside " + what + ": " + bytes + " bytes needed, "
                        + buffer.remaining() + " left");
            }
        }

        int u8() {
            need(1, "a u8 field");
            return buffer.get() & 0xFF;
        }

        int u16() {
            need(2, "a u16 field");
            return buffer.getShort() & 0xFFFF;
        }

        int i32() {
            need(4, "an i32 field");
            return buffer.getInt();
        }

        long u32() {
            need(4, "a u32 field");
            return buffer.getInt() & 0xFFFF_FFFFL;
        }

        long u32(String what) {
            long value = u32();
            if (value > Header.MAX_PAYLOAD) {
                throw new WireException(type + " " + what + " " + value + " exceeds the limit of "
                        + Header.MAX_PAYLOAD);
            }
            return value;
        }

        long i64() {
            need(8, "an i64 field");
            return buffer.getLong();
        }

        long handle() {
            long handle = i64();
            if (handle == 0) {
                throw new WireException(type + " names tensor handle 0, which is no tensor");
            }
            return handle;
        }

        int depth() {
            int depth = u16();
            if (depth > MAX_SCOPE_DEPTH) {
                throw new WireException(type + " scope depth " + depth + " exceeds the limit of " + MAX_SCOPE_DEPTH);
            }
            return depth;
        }

        byte[] bytes(long length) {
            need(length, "its data");
            byte[] bytes = new byte[(int) length];
            buffer.get(bytes);
            return bytes;
        }

        String name() {
            long length = u32();
            if (length == 0 || length > MAX_NAME_BYTES) {
                throw new WireException(type + " kernel name is " + length + " bytes, expected 1 to "
                        + MAX_NAME_BYTES);
            }
            return utf8(bytes(length), "kernel name");
        }

        String string() {
            int length = u16();
            if (length > MAX_STRING_BYTES) {
                throw new WireException(type + " string is " + length + " bytes, the limit is " + MAX_STRING_BYTES);
            }
            return utf8(bytes(length), "string");
        }

        private String utf8(byte[] bytes, String what) {
            try {
                return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
            } catch (java.nio.charset.CharacterCodingException e) {
                throw new WireException(type + " " + what + " is not valid UTF-8");
            }
        }

        void end() {
            if (buffer.hasRemaining()) {
                throw new WireException(type + " payload has " + buffer.remaining() + " trailing bytes");
            }
        }
    }
}
