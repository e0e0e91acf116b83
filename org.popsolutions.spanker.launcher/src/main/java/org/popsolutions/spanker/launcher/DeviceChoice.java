package org.popsolutions.spanker.launcher;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The launcher-wide options {@code --device mock|sails} and {@code --endpoints host:port,...}, taken out of a
 * command's arguments (before a lone {@code --}). With {@code sails} the mock device bundle is left out and the
 * Sails device is asked for through framework properties, so the topology holds only the Sails cards.
 *
 * <p>With {@code --hosts} (a pipeline across the cluster's hosts) the cards are the hosts', not this process's:
 * {@code --device} then stays with the command, which tells the hosts, and this framework keeps its mock cards.
 */
record DeviceChoice(String device, String endpoints, List<String> rest) {
    static final DeviceChoice MOCK = new DeviceChoice("mock", null, List.of());
    private static final String MOCK_BUNDLE = "org.popsolutions.spanker.device.mock";

    static DeviceChoice take(List<String> arguments) {
        int end = arguments.indexOf("--");
        List<String> options = end < 0 ? arguments : arguments.subList(0, end);
        if (options.stream().anyMatch(a -> a.equals("--hosts") || a.startsWith("--hosts="))) {
            if (options.stream().anyMatch(a -> a.equals("--endpoints") || a.startsWith("--endpoints="))) {
                throw new IllegalArgumentException("option --endpoints does not go with --hosts: every host starts"
                        + " cards of its own (--device sails)");
            }
            return new DeviceChoice("mock", null, List.copyOf(arguments));
        }
        String device = null;
        String endpoints = null;
        List<String> rest = new ArrayList<>();
        boolean ended = false;
        for (int i = 0; i < arguments.size(); i++) {
            String a = arguments.get(i);
            if (ended || !(a.equals("--device") || a.startsWith("--device=") || a.equals("--endpoints")
                    || a.startsWith("--endpoints="))) {
                ended |= a.equals("--");
                rest.add(a);
                continue;
            }
            String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            String value;
            if (a.contains("=")) {
                value = a.substring(a.indexOf('=') + 1);
            } else if (i + 1 < arguments.size()) {
                value = arguments.get(++i);
            } else {
                throw new IllegalArgumentException("option " + name + " needs a value");
            }
            if (name.equals("--device")) {
                if (device != null) {
                    throw new IllegalArgumentException("option --device given twice");
                }
                if (!value.equals("mock") && !value.equals("sails")) {
                    throw new IllegalArgumentException("option --device takes mock or sails, got '" + value + "'");
                }
                device = value;
            } else {
                if (endpoints != null) {
                    throw new IllegalArgumentException("option --endpoints given twice");
                }
                if (!value.matches("[^,:\\s]+:\\d{1,5}(,[^,:\\s]+:\\d{1,5})*")) {
                    throw new IllegalArgumentException("option --endpoints takes host:port[,host:port...], got '"
                            + value + "'");
                }
                endpoints = value;
            }
        }
        if (endpoints != null && "mock".equals(device)) {
            throw new IllegalArgumentException("option --endpoints names Sails cards; it goes with --device sails");
        }
        if (endpoints != null) {
            device = "sails";
        }
        return new DeviceChoice(device == null ? "mock" : device, endpoints, List.copyOf(rest));
    }

    Map<String, String> frameworkProperties() {
        if (!device.equals("sails")) {
            return Map.of();
        }
        return endpoints == null ? Map.of("spanker.device", "sails")
                : Map.of("spanker.device", "sails", "spanker.sails.endpoints", endpoints);
    }

    Set<String> leftOutBundles() {
        return device.equals("sails") ? Set.of(MOCK_BUNDLE) : Set.of();
    }
}
