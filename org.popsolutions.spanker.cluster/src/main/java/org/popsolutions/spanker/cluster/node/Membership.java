package org.popsolutions.spanker.cluster.node;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.popsolutions.spanker.api.cluster.Coordinate;
import org.popsolutions.spanker.api.cluster.NodeInfo;
import org.popsolutions.spanker.api.cluster.NodeState;

/**
 * The node registry on Hazelcast membership: each process is one member and carries, as member attributes, its pid
 * and every node it holds with the node's data-plane port. A node is LIVE while its process is a member; when
 * failure detection removes the member, its nodes become DEAD (they stay listed) and listeners hear of each.
 * Hazelcast does only this: no maps, no partitions in use, no data through it.
 */
public final class Membership implements AutoCloseable {
    static final String NODES = "linqu.nodes";
    static final String PID = "linqu.pid";
    /**
     * Heartbeat every second; a member silent for this long is removed. A killed process is noticed sooner: its
     * sockets close, and Hazelcast removes a member it cannot reconnect to (about a second here). 4 s proved too
     * tight on a 2-core machine at load 50, where live members missed heartbeats and were removed.
     */
    public static final int MAX_NO_HEARTBEAT_SECONDS = 10;

    private volatile HazelcastInstance hazelcast;
    private final Map<Coordinate, NodeInfo> nodes = new ConcurrentHashMap<>();
    private final List<Consumer<Coordinate>> deathListeners = new CopyOnWriteArrayList<>();

    private Membership() {
    }

    /** Joins (or forms) the cluster {@code clusterName} on 127.0.0.1 with TCP/IP join over {@code memberPorts}. */
    public static Membership join(String clusterName, int port, List<Integer> memberPorts, long pid,
            Map<Coordinate, Integer> localNodes) {
        Config config = new Config();
        config.setClusterName(clusterName);
        // LINQU_HAZELCAST_LOG=1 shows Hazelcast's own log in the node process's log file.
        config.setProperty("hazelcast.logging.type", System.getenv("LINQU_HAZELCAST_LOG") != null ? "jdk" : "none");
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.shutdownhook.enabled", "false");
        config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
        config.setProperty("hazelcast.max.no.heartbeat.seconds", Integer.toString(MAX_NO_HEARTBEAT_SECONDS));
        config.setProperty("hazelcast.heartbeat.failuredetector.type", "deadline");
        config.setProperty("hazelcast.wait.seconds.before.join", "1");
        config.setProperty("hazelcast.max.wait.seconds.before.join", "3");
        config.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
        config.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
        config.setProperty("hazelcast.partition.count", "7");
        config.setProperty("hazelcast.socket.bind.any", "false");
        config.setProperty("hazelcast.event.thread.count", "2");
        config.setProperty("hazelcast.operation.thread.count", "2");
        config.setProperty("hazelcast.operation.generic.thread.count", "2");
        config.setProperty("hazelcast.io.thread.count", "1");
        config.getJetConfig().setEnabled(false);
        config.getSqlConfig().setCatalogPersistenceEnabled(false);
        NetworkConfig network = config.getNetworkConfig();
        network.setPort(port).setPortAutoIncrement(false);
        network.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        network.setPublicAddress("127.0.0.1:" + port);
        JoinConfig join = network.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(true).setConnectionTimeoutSeconds(2);
        for (int memberPort : memberPorts) {
            join.getTcpIpConfig().addMember("127.0.0.1:" + memberPort);
        }
        config.getMemberAttributeConfig().setAttribute(PID, Long.toString(pid));
        config.getMemberAttributeConfig().setAttribute(NODES, encodeNodes(localNodes));
        Membership membership = new Membership();
        // Registered in the configuration so no membership event is missed while the instance starts.
        config.addListenerConfig(new com.hazelcast.config.ListenerConfig(membership.listener()));
        membership.hazelcast = Hazelcast.newHazelcastInstance(config);
        for (Member member : membership.hazelcast.getCluster().getMembers()) {
            membership.added(member);
        }
        return membership;
    }

    private MembershipListener listener() {
        return new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent event) {
                added(event.getMember());
            }

            @Override
            public void memberRemoved(MembershipEvent event) {
                removed(event.getMember());
            }
        };
    }

    private void added(Member member) {
        long pid = Long.parseLong(member.getAttribute(PID));
        decodeNodes(member.getAttribute(NODES)).forEach((node, port) ->
                nodes.put(node, new NodeInfo(node, port, pid, NodeState.LIVE)));
    }

    private void removed(Member member) {
        long pid = Long.parseLong(member.getAttribute(PID));
        List<Coordinate> died = new ArrayList<>();
        for (Coordinate node : decodeNodes(member.getAttribute(NODES)).keySet()) {
            NodeInfo before = nodes.get(node);
            if (before != null) {
                nodes.put(node, new NodeInfo(node, before.port(), pid, NodeState.DEAD));
                died.add(node);
            }
        }
        for (Coordinate node : died) {
            for (Consumer<Coordinate> listener : deathListeners) {
                listener.accept(node);
            }
        }
    }

    public void onDeath(Consumer<Coordinate> listener) {
        deathListeners.add(listener);
    }

    public NodeInfo info(Coordinate node) {
        return nodes.get(node);
    }

    public boolean isLive(Coordinate node) {
        NodeInfo info = nodes.get(node);
        return info != null && info.state() == NodeState.LIVE;
    }

    /** Every node ever seen, dead ones included, in coordinate order. */
    public List<NodeInfo> all() {
        List<NodeInfo> all = new ArrayList<>(nodes.values());
        all.sort(Comparator.comparingLong(info -> order(info.coordinate())));
        return all;
    }

    static long order(Coordinate node) {
        return (long) (6 - node.level().number()) << 48 | node.pack() & 0xFF_FFFF_FFFFL;
    }

    public int memberCount() {
        return hazelcast.getCluster().getMembers().size();
    }

    static String encodeNodes(Map<Coordinate, Integer> nodes) {
        StringBuilder text = new StringBuilder();
        nodes.forEach((node, port) -> {
            if (text.length() > 0) {
                text.append(';');
            }
            text.append(Long.toHexString(node.pack())).append('=').append(port);
        });
        return text.toString();
    }

    static Map<Coordinate, Integer> decodeNodes(String text) {
        Map<Coordinate, Integer> nodes = new java.util.LinkedHashMap<>();
        if (text == null || text.isEmpty()) {
            return nodes;
        }
        for (String entry : text.split(";")) {
            int equals = entry.indexOf('=');
            nodes.put(Coordinate.unpack(Long.parseLong(entry.substring(0, equals), 16)),
                    Integer.parseInt(entry.substring(equals + 1)));
        }
        return nodes;
    }

    /**
     * Leaves at once: a graceful shutdown would wait for partition migrations, which this cluster has no use for
     * (it keeps no data in Hazelcast), and made a whole cluster's SIGTERM take more than 10 s under load.
     */
    @Override
    public void close() {
        hazelcast.getLifecycleService().terminate();
    }
}
