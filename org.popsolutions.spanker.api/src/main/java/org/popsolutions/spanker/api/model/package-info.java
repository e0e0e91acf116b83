/** What the platform needs to know of a model to plan it: its hyper-parameters and tensors' shapes. */
@Export
@Version("1.0.0")
package org.popsolutions.spanker.api.model;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
