package org.popsolutions.spanker.device.sails;

import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.topology.TopologyKind;

/**
 * How a fleet's cards are cabled (docs/protocol.md, "Inter-card links"): on a ring port 0 is downstream (to
 * card i+1) and port 1 upstream, a two-card ring has one port, and the upstream end of each cable drives the link
 * clock; on a mesh each card has one port per other card in card order and the lower index drives.
 */
final class Cabling {
    record Cable(int port, int neighbourCard, int neighbourPort, boolean connect) {
    }

    private Cabling() {
    }

    static List<Cable> of(TopologyKind kind, int cards, int card) {
        List<Cable> cables = new ArrayList<>();
        if (cards < 2) {
            return cables;
        }
        if (kind == TopologyKind.MESH) {
            for (int other = 0; other < cards; other++) {
                if (other != card) {
                    cables.add(new Cable(meshPort(card, other), other, meshPort(other, card), card < other));
                }
            }
        } else if (cards == 2) {
            cables.add(new Cable(0, 1 - card, 0, card == 0));
        } else {
            cables.add(new Cable(0, (card + 1) % cards, 1, true));
            cables.add(new Cable(1, (card + cards - 1) % cards, 0, false));
        }
        return cables;
    }

    private static int meshPort(int card, int other) {
        return other < card ? other : other - 1;
    }
}
