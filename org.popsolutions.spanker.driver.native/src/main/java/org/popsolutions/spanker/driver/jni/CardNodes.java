package org.popsolutions.spanker.driver.jni;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The card nodes {@code DIR/spanker0}, {@code DIR/spanker1}, … that open, up to the first missing index (SPEC §4). */
public final class CardNodes {
    private CardNodes() {
    }

    /**
     * Opens (and closes) each node in turn from index 0 to 255 and stops at the first that does not exist; a node
     * that exists but cannot be opened is an error naming it. May be empty (the driver is loaded, no card present).
     */
    public static List<Path> enumerate(Path directory) {
        Syscalls.require();
        List<Path> nodes = new ArrayList<>();
        for (int index = 0; index <= Abi.MAX_CARD_INDEX; index++) {
            Path node = directory.resolve(Abi.CARD_NODE_PREFIX + index);
            int fd = Syscalls.open(node.toString());
            if (fd < 0) {
                if (-fd == Errno.ENOENT || -fd == Errno.ENODEV || -fd == Errno.ENXIO) {
                    break;
                }
                throw DriverErrors.openFailed(node, -fd);
            }
            Syscalls.close(fd);
            nodes.add(node);
        }
        return nodes;
    }
}
