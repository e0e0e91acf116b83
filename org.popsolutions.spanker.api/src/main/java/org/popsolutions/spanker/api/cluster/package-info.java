/**
 * The Linqu hierarchy past one host (levels L3 to L6): coordinates, tasks and their parameters, the orchestrator
 * operations a task uses to drive the level below it, and what the runtime reports; a model run as a pipeline
 * across L3 hosts ({@link HostPipelines}).
 */
@Export
@Version("1.2.0")
package org.popsolutions.spanker.api.cluster;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
