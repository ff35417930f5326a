package dev.locallambdas.junit5;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestInstancePostProcessor;

/**
 * Starts the gateway {@link LocalLambdas} asks for, in the class's store or (suite scope) the root
 * store keyed by manifest and arguments, so JUnit closes it with that store; injects its URL.
 */
public final class LocalLambdasExtension
    implements BeforeAllCallback, TestInstancePostProcessor, ParameterResolver {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(LocalLambdasExtension.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    gateway(context);
  }

  private static GatewayProcess gateway(ExtensionContext context) {
    Class<?> testClass = context.getRequiredTestClass();
    LocalLambdas config = findConfig(testClass);
    Path manifest = Path.of(config.manifest()).toAbsolutePath().normalize();
    List<String> args = List.of(config.args());
    ExtensionContext owner =
        config.scope() == LocalLambdas.Scope.SUITE ? context.getRoot() : classContext(context);
    Object key = List.of(manifest.toString(), args);
    return owner
        .getStore(NAMESPACE)
        .getOrComputeIfAbsent(
            key,
            k -> {
              try {
                return GatewayProcess.start(manifest, args, config.startTimeoutSeconds());
              } catch (java.io.IOException e) {
                throw new ExtensionConfigurationException(
                    "cannot start local-lambdas: " + e.getMessage(), e);
              }
            },
            GatewayProcess.class);
  }

  private static ExtensionContext classContext(ExtensionContext context) {
    ExtensionContext c = context;
    while (c.getTestMethod().isPresent() && c.getParent().isPresent()) {
      c = c.getParent().get();
    }
    return c;
  }

  private static LocalLambdas findConfig(Class<?> testClass) {
    for (Class<?> c = testClass; c != null; c = c.getEnclosingClass()) {
      LocalLambdas config = c.getAnnotation(LocalLambdas.class);
      if (config != null) {
        return config;
      }
    }
    throw new ExtensionConfigurationException(
        testClass.getName() + " has no @LocalLambdas(manifest = \"...\")");
  }

  @Override
  public void postProcessTestInstance(Object instance, ExtensionContext context) throws Exception {
    for (Class<?> c = instance.getClass(); c != null; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (f.isAnnotationPresent(LocalLambdasUrl.class) && !Modifier.isStatic(f.getModifiers())) {
          f.setAccessible(true);
          f.set(instance, value(f.getType(), gateway(context).url, f.toString()));
        }
      }
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.isAnnotated(LocalLambdasUrl.class);
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    try {
      return value(type, gateway(context).url, parameter.getParameter().toString());
    } catch (ExtensionConfigurationException e) {
      throw new ParameterResolutionException(e.getMessage(), e);
    }
  }

  private static Object value(Class<?> type, URI url, String where) {
    if (type == URI.class) {
      return url;
    }
    if (type == String.class) {
      return url.toString();
    }
    throw new ExtensionConfigurationException(
        "@LocalLambdasUrl " + where + " must be a java.net.URI or a String");
  }
}
