package dev.locallambdas.junit5;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The URL of the gateway {@link LocalLambdas} started, e.g. {@code http://127.0.0.1:41234},
 * injected into a field or parameter of type {@link java.net.URI} or {@link String}.
 */
@Target({ElementType.FIELD, ElementType.PARAMETER})
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface LocalLambdasUrl {}
