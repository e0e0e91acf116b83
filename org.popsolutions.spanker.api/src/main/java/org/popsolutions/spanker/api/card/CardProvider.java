package org.popsolutions.spanker.api.card;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A device bundle's way in: opens groups of cards. The mock provider makes in-process cards; an emulator provider
 * starts card processes; a hardware provider claims real cards. Service property {@value #PROVIDER} names it.
 */
@ProviderType
public interface CardProvider {
    String PROVIDER = "spanker.provider";

    /** e.g. {@code mock}. */
    String name();

    /**
     * Opens the cards {@code spec} describes.
     *
     * @throws org.popsolutions.spanker.api.InvalidConfigurationException when the provider cannot make that group
     */
    CardGroup open(CardGroupSpec spec);
}
