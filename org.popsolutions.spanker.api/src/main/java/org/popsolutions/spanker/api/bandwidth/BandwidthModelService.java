package org.popsolutions.spanker.api.bandwidth;

import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/** The bandwidth model in effect, as configured (or the SPEC defaults). */
@ProviderType
public interface BandwidthModelService {
    /** The model in effect; it always keeps every invariant. */
    BandwidthModel current();

    /** Where the model in effect came from, e.g. the defaults or a configuration PID. */
    String source();

    /** Why the most recent configuration was refused, if it was; the previous model stayed in effect. */
    Optional<String> lastRejection();
}
