package org.popsolutions.spanker.ggml.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.Slice;

/** Every kind of op the SPI has reaches its own handler method, and the handler has one method per kind. */
class OpDispatchTest {
    @Test
    void everyOpKindReachesItsOwnHandlerMethod() throws Exception {
        Class<?>[] kinds = Op.class.getPermittedSubclasses();
        assertEquals(kinds.length, OpHandler.class.getDeclaredMethods().length, "one handler method per op kind");
        Set<String> called = new HashSet<>();
        @SuppressWarnings("unchecked")
        OpHandler<String, RuntimeException> handler = (OpHandler<String, RuntimeException>) Proxy.newProxyInstance(
                OpHandler.class.getClassLoader(), new Class<?>[] {OpHandler.class}, (proxy, method, args) -> {
                    assertEquals(method.getParameterTypes()[0], args[0].getClass(), method.getName());
                    return method.getName();
                });
        for (Class<?> kind : kinds) {
            Op op = instance(kind);
            String method = OpDispatch.dispatch(op, handler);
            Method declared = OpHandler.class.getMethod(method, kind);
            assertEquals(kind, declared.getParameterTypes()[0]);
            called.add(method);
        }
        assertEquals(kinds.length, called.size(), "each kind its own method: " + called);
    }

    /** An op of this kind with plain operands (a one-float slice of buffer 1, ones, MAX, each other enum's first constant). */
    private static Op instance(Class<?> kind) throws Exception {
        RecordComponent[] components = kind.getRecordComponents();
        Class<?>[] types = new Class<?>[components.length];
        List<Object> args = new ArrayList<>();
        for (int i = 0; i < components.length; i++) {
            Class<?> t = components[i].getType();
            types[i] = t;
            if (t == int.class) {
                args.add(1);
            } else if (t == long.class) {
                args.add(4L);
            } else if (t == float.class) {
                args.add(1f);
            } else if (t == Slice.class) {
                args.add(new Slice(1, 0, 4));
            } else if (t == org.popsolutions.spanker.api.card.Combine.class) {
                args.add(org.popsolutions.spanker.api.card.Combine.MAX); // every op that takes one accepts MAX
            } else if (t.isEnum()) {
                args.add(t.getEnumConstants()[0]);
            } else {
                throw new IllegalStateException(kind.getSimpleName() + " has an operand of type " + t);
            }
        }
        Constructor<?> constructor = kind.getDeclaredConstructor(types);
        return (Op) constructor.newInstance(args.toArray());
    }
}
