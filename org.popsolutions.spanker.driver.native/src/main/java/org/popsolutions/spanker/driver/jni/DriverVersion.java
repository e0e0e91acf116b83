package org.popsolutions.spanker.driver.jni;

/** An ABI version as {@code struct spanker_version} carries it. */
public record DriverVersion(int major, int minor, int patch) {
    /** The newest ABI this userspace speaks; it accepts any driver of the same major. */
    public static final DriverVersion USERSPACE = new DriverVersion(0, 2, 0);

    /** ABI 0.2 adds DMA by pread/pwrite on the card nodes and work submission (docs/driver-abi.md). */
    public boolean hasWorkPath() {
        return major == 0 && minor >= 2;
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + patch;
    }
}
