package org.anetd.operator.api;

/**
 * A legal but risky setting (Strimzi's KafkaSpecChecker idea): reported as a status condition of
 * its own {@code type} with status True, never a reason to reject the spec.
 */
public record SpecWarning(String type, String reason, String message) {}
