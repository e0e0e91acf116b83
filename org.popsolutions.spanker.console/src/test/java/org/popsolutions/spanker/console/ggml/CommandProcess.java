package org.popsolutions.spanker.console.ggml;

import java.util.List;
import org.popsolutions.spanker.api.SpankerException;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;

/**
 * Runs one ggml command in a process of its own, so that a test can give it operating-system limits (a maximum
 * file size, which makes a write fail midway as a full disk does). Prints one line and exits as the launcher
 * does: 0 ok, 1 domain error, 2 usage error, 3 anything else.
 */
public final class CommandProcess {
    private CommandProcess() {
    }

    public static void main(String[] args) {
        int status;
        try {
            AbstractConsoleCommand command = switch (args[0]) {
                case "quantize" -> new QuantizeCommand();
                case "dequantize" -> new DequantizeCommand();
                case "quantize-model" -> new QuantizeModelCommand();
                case "model-synth" -> new ModelSynthCommand();
                case "logits" -> ModelCommandsTest.wire(new LogitsCommand());
                case "run" -> ModelCommandsTest.wire(new RunCommand());
                default -> throw new IllegalArgumentException("no command " + args[0]);
            };
            command.execute(List.of(args).subList(1, args.length));
            System.out.println("ok");
            status = 0;
        } catch (UsageException e) {
            System.out.println("usage: " + e.getMessage());
            status = 2;
        } catch (SpankerException e) {
            System.out.println("error: " + e.kind() + ": " + e.getMessage());
            status = 1;
        } catch (Throwable e) {
            System.out.println("internal: " + e);
            status = 3;
        }
        System.out.flush();
        Runtime.getRuntime().halt(status);
    }
}
