package org.popsolutions.spanker.console.internal;

import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.console.support.Arguments;

/** Options the collective commands share. */
final class CollectiveArguments {
    private CollectiveArguments() {
    }

    /** {@code --cards}, defaulting to the number of buffers; a different count reaches the collective as given. */
    static int cards(Arguments arguments, int buffers) {
        int cards = arguments.integer("cards").orElse(buffers);
        if (cards < 0 || cards > 256) {
            throw new UsageException("option --cards must be within 0..256, got " + cards);
        }
        return cards;
    }
}
