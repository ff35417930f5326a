package dev.locallambdas.junit5;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Serves {@link #manifest} with a local-lambdas gateway process on a free port while the annotated
 * test class runs; its URL is injected into fields and parameters annotated {@link LocalLambdasUrl}
 * (of type {@link java.net.URI} or {@link String}). See docs/testing.md.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(LocalLambdasExtension.class)
public @interface LocalLambdas {
  /** The manifest, relative to the working directory of the tests (the module's directory). */
  String manifest();

  /** How long the gateway's start may take, in seconds. */
  int startTimeoutSeconds() default 120;

  /** Extra arguments for {@code serve}, e.g. {@code {"--debug", "hello"}}. */
  String[] args() default {};

  /** How long the gateway lives. */
  Scope scope() default Scope.SUITE;

  /** Per test class, or once for every class of the run that names the same manifest. */
  enum Scope {
    /** Started before the class's first test, stopped after its last. */
    CLASS,
    /** Started by the first class that asks, stopped when the whole run ends. */
    SUITE
  }
}
