package org.popsolutions.spanker.scheduler.link;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

@ObjectClassDefinition(id = ConfiguredLinkModel.PID, name = "Spanker inter-card link model",
        description = "Parameters of the LVDS card-to-card links and the GbE host link. Framing, CRC and the "
                + "latencies are assumptions until the hardware team defines them.")
@interface LinkConfig {
    @AttributeDefinition(description = "LVDS lanes per direction (rev-A: 4).")
    int lanes() default 4;

    @AttributeDefinition(description = "Line rate of one lane, bit/s (rev-A: 1.25 Gbit/s).")
    long laneBitsPerSecond() default 1_250_000_000L;

    @AttributeDefinition(description = "Line coding.",
            options = {@Option(label = "8b/10b", value = "8b/10b"), @Option(label = "64b/66b", value = "64b/66b")})
    String coding() default "8b/10b";

    @AttributeDefinition(description = "Payload bytes per link frame (assumption).")
    int framePayloadBytes() default 512;

    @AttributeDefinition(description = "Header bytes per link frame (assumption).")
    int frameHeaderBytes() default 8;

    @AttributeDefinition(description = "CRC bytes per link frame (assumption: CRC-32).")
    int crcBytes() default 4;

    @AttributeDefinition(description = "One-way latency of one hop, seconds (assumption).")
    double hopLatencySeconds() default 1.0e-6;

    @AttributeDefinition(description = "Link training time DOWN -> UP, seconds (assumption).")
    double trainingSeconds() default 1.0e-3;

    @AttributeDefinition(description = "Frames the sender may have in flight before a credit returns (assumption).")
    int creditFrames() default 8;

    @AttributeDefinition(description = "Rate at which a card combines received data with its own, bytes/s "
            + "(assumption: local DDR 2 GB/s over two reads and one write).")
    double reduceBytesPerSecond() default 666_666_666.6666666;

    @AttributeDefinition(description = "GbE host link payload rate, bytes/s (SPEC: 100 MB/s).")
    double hostLinkBytesPerSecond() default 100.0e6;

    @AttributeDefinition(description = "One-way host to card latency over GbE, seconds (assumption).")
    double hostLinkLatencySeconds() default 50.0e-6;

    @AttributeDefinition(description = "How the host reaches its cards' GbE ports: 'shared' (one NIC behind a switch:"
            + " the cards' loads share one host-link rate) or 'per-card' (a NIC per card). Emulated cards are paced"
            + " by the same setting.",
            options = {@Option(label = "one NIC shared by the cards", value = "shared"),
                @Option(label = "one NIC per card", value = "per-card")})
    String hostNic() default "shared";
}
