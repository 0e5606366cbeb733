package org.anetd.agent.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class that needs root and a real kernel (BPF, BTF, clsact, veth, netns). The
 * extension checks the machine once: where a feature is truly missing the test is skipped with a
 * message naming it, except under CI=true, where a skip is a failure.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("kernel")
@ExtendWith(KernelExtension.class)
public @interface KernelTest {}
