package org.popsolutions.spanker.runtime;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.ggml.gguf.GgufTensorInfo;
import org.popsolutions.spanker.ggml.quant.QuantFormats;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.model.llama.SmallModels;

/**
 * Mutants of a model's weight bytes (any tensor, any byte, NaN and infinity bit patterns included) are placed and
 * run. A mutant whose weights decode (by the reference decoder) to NaN or infinity is refused naming that tensor, even
 * where its NaN would have vanished into zeros; any other either computes finite logits or fails as an
 * InvalidModelException (an overflow); never another exception, never a non-finite result. A failure names the case
 * seed for replay.
 */
class FuzzWeightBytesTest {
    private static final int CASES = 200;
    private static final int POSITIONS = 3;

    private static boolean decodesNonFinite(SmallModels.Model model, String tensor, ByteBuffer bytes) {
        GgufTensorInfo info = model.tensors().stream().filter(t -> t.name().equals(tensor)).findFirst().orElseThrow();
        float[] values = new float[Math.toIntExact(info.elementCount())];
        QuantFormats.of(info.type()).dequantize(bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN), 0, values, 0,
                values.length);
        for (float v : values) {
            if (!Float.isFinite(v)) {
                return true;
            }
        }
        return false;
    }

    @Test
    void weightMutantsOnlyEverRunFiniteOrFailAsInvalidModel() {
        SmallModels.Model base = SmallModels.sentencePiece();
        List<String> tensors = new ArrayList<>(base.data().keySet());
        SplittableRandom random = new SplittableRandom(0x3eed);
        int refused = 0;
        int spoiled = 0;
        for (int c = 0; c < CASES; c++) {
            long caseSeed = random.nextLong();
            SplittableRandom r = new SplittableRandom(caseSeed);
            SmallModels.Model mutant = base.copy();
            String tensor = tensors.get(r.nextInt(tensors.size()));
            ByteBuffer bytes = ByteBuffer.allocate(mutant.data().get(tensor).capacity());
            bytes.put(mutant.data().get(tensor).duplicate()).flip();
            int at = r.nextInt(bytes.capacity() - 1);
            switch (r.nextInt(3)) {
                case 0 -> bytes.put(at, (byte) r.nextInt(256));
                case 1 -> bytes.put(at + 1, (byte) (0x7c | (r.nextBoolean() ? 0x80 : 0))); // fp16 exponent all ones
                default -> bytes.put(at, (byte) 0xff).put(at + 1, (byte) 0x7f); // fp16 NaN, or part of an f32 one
            }
            mutant.data().put(tensor, bytes);
            boolean nonFinite = decodesNonFinite(mutant, tensor, bytes);
            spoiled += nonFinite ? 1 : 0;
            DotMode mode = DotMode.values()[r.nextInt(DotMode.values().length)];
            String what = "case seed " + caseSeed + " (" + tensor + " byte " + at + ", " + mode + ")";
            try (PlanExecutor model = Llamas.singleCard(TestSupport.cards(), mutant.read(), mode, 1)) {
                assertFalse(nonFinite, what + ": weights holding NaN or infinity were placed");
                for (int pos = 0; pos < POSITIONS; pos++) {
                    float[] logits = model.forward(r.nextInt(512), pos);
                    for (float logit : logits) {
                        assertTrue(Float.isFinite(logit), what + ": a non-finite logit came back");
                    }
                }
            } catch (InvalidModelException expected) {
                refused++;
                assertTrue(expected.getMessage().contains("non-finite"), what + ": " + expected.getMessage());
                if (nonFinite) {
                    assertTrue(expected.getMessage().contains(tensor), what + ": " + expected.getMessage());
                }
            } catch (RuntimeException e) {
                fail(what + ": " + e, e);
            }
        }
        assertTrue(refused > CASES / 20 && spoiled > CASES / 20, "of " + CASES + " mutants only " + refused
                + " were refused and " + spoiled + " decode to NaN or infinity: the mutations no longer reach them");
    }
}
