package org.popsolutions.spanker.api.cluster;

/**
 * A node as the registry knows it.
 *
 * @param port the node's data-plane endpoint on 127.0.0.1
 * @param pid the process the node lives in
 */
public record NodeInfo(Coordinate coordinate, int port, long pid, NodeState state) {
}
