package org.popsolutions.spanker.api.card;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ForwardingCardTest {
    /** Every SailCard method, called on a view that overrides nothing, reaches the card with the same arguments. */
    @Test
    void everyCardCallReachesTheDelegateWithItsArgumentsAndResult() throws Exception {
        List<String> calls = new ArrayList<>();
        List<Object[]> arguments = new ArrayList<>();
        SailCard card = (SailCard) Proxy.newProxyInstance(SailCard.class.getClassLoader(),
                new Class<?>[] {SailCard.class}, (proxy, method, args) -> {
                    calls.add(method.getName());
                    arguments.add(args == null ? new Object[0] : args);
                    return resultFor(method);
                });
        ForwardingCard view = () -> card;
        for (Method method : SailCard.class.getMethods()) {
            if (Modifier.isStatic(method.getModifiers())) {
                continue;
            }
            Method own = ForwardingCard.class.getMethod(method.getName(), method.getParameterTypes());
            assertTrue(own.isDefault() && own.getDeclaringClass() == ForwardingCard.class,
                    method.getName() + " is forwarded by ForwardingCard itself");
            Object[] args = argumentsFor(method);
            calls.clear();
            arguments.clear();
            Object result = own.invoke(view, args);
            assertEquals(List.of(method.getName()), calls, method.getName() + " reaches the card once");
            assertArrayEquals(args, arguments.get(0), method.getName() + " passes its arguments on");
            if (method.getReturnType() != void.class) {
                assertSame(resultFor(method), result, method.getName() + " returns the card's answer");
            }
        }
    }

    @Test
    void aViewChangesOnlyWhatItOverrides() {
        CardIdentity real = identity(3);
        CardIdentity renumbered = identity(0);
        SailCard card = (SailCard) Proxy.newProxyInstance(SailCard.class.getClassLoader(),
                new Class<?>[] {SailCard.class}, (proxy, method, args) -> method.getName().equals("identity") ? real
                        : null);
        ForwardingCard view = new ForwardingCard() {
            @Override
            public SailCard delegate() {
                return card;
            }

            @Override
            public CardIdentity identity() {
                return renumbered;
            }
        };
        assertSame(renumbered, view.identity());
        assertSame(real, view.delegate().identity());
        assertFalse(view.delegate() instanceof ForwardingCard);
    }

    private static CardIdentity identity(int index) {
        return new CardIdentity(index, "card" + index, "test", "fw", 1, 1024, java.util.Set.of(), java.util.Set.of(), List.of());
    }

    private static final CardTelemetry TELEMETRY = new CardTelemetry(1, 2, 3, 4, 5, 6, 7, List.of());
    private static final java.util.Map<Class<?>, Object> RESULTS = java.util.Map.of(
            CardIdentity.class, identity(2),
            CardBuffer.class, new CardBuffer(2, 9, 128, "answer"),
            CardMemory.class, new CardMemory(1024, 128, 1),
            java.util.concurrent.CompletableFuture.class, new java.util.concurrent.CompletableFuture<ProgramCompletion>(),
            List.class, List.of(),
            CardTelemetry.class, TELEMETRY);

    /** One answer per return type, the same object each time, so forwarding can be told from making one up. */
    private static Object resultFor(Method method) {
        Class<?> type = method.getReturnType();
        if (type == void.class) {
            return null;
        }
        Object result = RESULTS.get(type);
        if (result == null) {
            throw new AssertionError("SailCard." + method.getName() + " returns " + type.getSimpleName()
                    + ": give the test an answer of that type");
        }
        return result;
    }

    private static Object[] argumentsFor(Method method) {
        Class<?>[] types = method.getParameterTypes();
        Object[] args = new Object[types.length];
        for (int i = 0; i < types.length; i++) {
            Class<?> t = types[i];
            args[i] = t == long.class ? Long.valueOf(40 + i) : t == int.class ? Integer.valueOf(7 + i)
                    : t == boolean.class ? Boolean.TRUE : t == String.class ? "purpose" + i
                    : t == java.nio.ByteBuffer.class ? java.nio.ByteBuffer.allocate(4)
                    : t == CardBuffer.class ? new CardBuffer(1, 5, 64, "b") : t == Program.class
                    ? new Program("p", List.of()) : null;
        }
        return args;
    }
}
