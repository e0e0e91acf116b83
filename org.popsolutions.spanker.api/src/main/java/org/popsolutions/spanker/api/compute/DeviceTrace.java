package org.popsolutions.spanker.api.compute;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/** The transactions a (mock or emulated) card recorded, oldest first. */
@ProviderType
public interface DeviceTrace {
    List<DeviceTransaction> transactions();

    void clear();
}
