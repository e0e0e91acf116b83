package org.popsolutions.spanker.osgi.test;

import java.io.IOException;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/** Config Admin steps the tests share; every test deletes what it configured, so tests do not leak into each other. */
final class Configurations {
    static final String MOCK_DEVICE_PID = "org.popsolutions.spanker.device.mock";
    static final String BANDWIDTH_PID = "org.popsolutions.spanker.bandwidth";

    private Configurations() {
    }

    static void update(ConfigurationAdmin admin, String pid, Map<String, Object> properties) throws IOException {
        // "?" binds to whichever bundle declares the PID, as a configuration dropped into Karaf's etc/ would.
        Configuration configuration = admin.getConfiguration(pid, "?");
        Dictionary<String, Object> dictionary = new Hashtable<>(properties);
        configuration.update(dictionary);
    }

    static void deleteAll(ConfigurationAdmin admin, String pid) throws IOException, InvalidSyntaxException {
        Configuration[] configurations = admin.listConfigurations("(service.pid=" + pid + ")");
        if (configurations != null) {
            for (Configuration configuration : configurations) {
                configuration.delete();
            }
        }
    }
}
