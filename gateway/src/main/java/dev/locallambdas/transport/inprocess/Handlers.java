package dev.locallambdas.transport.inprocess;

import dev.locallambdas.json.Json;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.transport.lambda.ApiGateway;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Array;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Logger;

/**
 * The handler kinds of aws-lambda-java-core, driven by reflection through the function's own class
 * loader (the gateway does not depend on that library): a {@code RequestStreamHandler} gets the
 * event's bytes and writes its result; a {@code RequestHandler} whose input type is {@code Map},
 * {@code Object} or {@code String} gets the parsed event, any other type (a POJO such as the events
 * library's {@code APIGatewayV2HTTPEvent}) the event bound to it ({@link Binding}), and its result
 * (a map, list, string, number, or a bean such as the events library's responses) is written as
 * JSON. This project's Java SDK {@code Handler} is driven over HTTP instead ({@link SdkHandler}).
 */
final class Handlers {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.transport.inprocess");
  private static final String CORE = "com.amazonaws.services.lambda.runtime.";

  private Handlers() {}

  /** A handler that cannot be used, and why. */
  static final class LoadException extends Exception {
    private static final long serialVersionUID = 1L;

    LoadException(String message) {
      super(message);
    }
  }

  /** What one call knows about itself, for its Context. */
  record Invocation(FunctionSpec spec, String requestId, long deadlineEpochMillis) {}

  /** Calls the loaded handler with an event, returning its result's bytes. */
  interface Invoker {
    byte[] invoke(byte[] event, Invocation invocation) throws InvocationTargetException;
  }

  /** A loaded handler: of events ({@code events}) or, for a Java SDK Handler, of HTTP. */
  record Loaded(Invoker events, SdkHandler http) {}

  static Loaded load(ClassLoader loader, String handler) throws LoadException {
    String className =
        handler.contains("::") ? handler.substring(0, handler.indexOf("::")) : handler;
    Class<?> type;
    Class<?> contextType;
    try {
      type = Class.forName(className, false, loader);
      contextType = contextType(loader);
    } catch (ClassNotFoundException | LinkageError e) {
      throw new LoadException(
          "cannot load "
              + className
              + " ("
              + e
              + "); the code must hold the class and aws-lambda-java-core or this project's Java"
              + " SDK (a jar in <arg>)");
    }
    Object instance;
    try {
      instance = type.getConstructor().newInstance();
    } catch (InvocationTargetException e) {
      throw new LoadException(
          "the constructor of " + className + " threw " + e.getCause()); // an init error
    } catch (ReflectiveOperationException | LinkageError e) {
      throw new LoadException("cannot create " + className + ": " + e);
    }
    SdkHandler sdk = SdkHandler.of(instance, type, loader);
    if (sdk != null) {
      return new Loaded(null, sdk);
    }
    return new Loaded(events(type, instance, contextType, className), null);
  }

  private static Invoker events(
      Class<?> type, Object instance, Class<?> contextType, String className) throws LoadException {
    if (contextType == null) {
      throw new LoadException(
          className
              + " is not a Handler of this project's Java SDK, and the code does not hold"
              + " aws-lambda-java-core");
    }
    Method stream = find(type, InputStream.class, OutputStream.class, contextType);
    if (stream != null && implementsNamed(type, CORE + "RequestStreamHandler")) {
      return (event, inv) -> {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        call(stream, instance, new ByteArrayInputStream(event), out, context(contextType, inv));
        return out.toByteArray();
      };
    }
    if (implementsNamed(type, CORE + "RequestHandler")) {
      for (Method m : type.getMethods()) {
        if (m.getName().equals("handleRequest")
            && !m.isBridge()
            && m.getParameterCount() == 2
            && m.getParameterTypes()[1] == contextType) {
          Class<?> input = m.getParameterTypes()[0];
          java.lang.reflect.Type declared = m.getGenericParameterTypes()[0];
          return (event, inv) -> {
            Object parsed;
            try {
              parsed = Json.parse(event);
            } catch (Json.SyntaxException e) {
              throw new InvocationTargetException(e);
            }
            Object arg;
            if (input == String.class) {
              arg = String.valueOf(parsed);
            } else if (input == Map.class || input == Object.class) {
              arg = parsed;
            } else {
              try {
                arg = Binding.bind(parsed, declared); // a POJO, as the runtime client binds it
              } catch (Binding.BindException e) {
                throw new InvocationTargetException(
                    new IllegalArgumentException(
                        "the event does not fit " + input.getName() + ": " + e.getMessage()));
              }
            }
            Object result = call(m, instance, arg, context(contextType, inv));
            return Json.write(jsonValue(result, 0)).getBytes(StandardCharsets.UTF_8);
          };
        }
      }
    }
    throw new LoadException(
        className
            + " is neither a RequestStreamHandler nor a RequestHandler of aws-lambda-java-core,"
            + " nor a Handler of this project's Java SDK");
  }

  /** The Context interface of aws-lambda-java-core; null when the code holds only the SDK. */
  private static Class<?> contextType(ClassLoader loader) throws ClassNotFoundException {
    try {
      return Class.forName(CORE + "Context", false, loader);
    } catch (ClassNotFoundException e) {
      Class.forName(SdkHandler.HANDLER, false, loader); // else neither library: say so
      return null;
    }
  }

  private static Method find(Class<?> type, Class<?>... parameters) {
    try {
      return type.getMethod("handleRequest", parameters);
    } catch (NoSuchMethodException e) {
      return null;
    }
  }

  private static boolean implementsNamed(Class<?> type, String name) {
    for (Class<?> c = type; c != null; c = c.getSuperclass()) {
      for (Class<?> i : c.getInterfaces()) {
        if (i.getName().equals(name)) {
          return true;
        }
      }
    }
    return false;
  }

  private static Object call(Method m, Object instance, Object... args)
      throws InvocationTargetException {
    try {
      return m.invoke(instance, args);
    } catch (IllegalAccessException e) {
      throw new InvocationTargetException(e);
    }
  }

  /** A Context for one call, as the runtime client gives it. */
  // A proxy equals only itself: identity is what equals() means for it.
  @SuppressWarnings("ReferenceEquality")
  private static Object context(Class<?> contextType, Invocation inv) {
    FunctionSpec spec = inv.spec();
    ClassLoader loader = contextType.getClassLoader();
    InvocationHandler handler =
        (proxy, method, args) -> {
          if (method.isDefault()) {
            return InvocationHandler.invokeDefault(proxy, method, args);
          }
          return switch (method.getName()) {
            case "getAwsRequestId" -> inv.requestId();
            case "getLogGroupName" -> "/aws/lambda/" + spec.id();
            case "getLogStreamName" -> "local/[$LATEST]" + spec.id();
            case "getFunctionName" -> spec.id();
            case "getFunctionVersion" -> "$LATEST";
            case "getInvokedFunctionArn" -> ApiGateway.functionArn(spec);
            case "getRemainingTimeInMillis" ->
                (int) Math.max(0, inv.deadlineEpochMillis() - System.currentTimeMillis());
            case "getMemoryLimitInMB" -> spec.memoryMb();
            case "getLogger" -> logger(method.getReturnType(), spec.id());
            case "toString" -> "Context[" + spec.id() + " " + inv.requestId() + "]";
            case "hashCode" -> System.identityHashCode(proxy);
            case "equals" -> proxy == args[0];
            default -> null;
          };
        };
    return Proxy.newProxyInstance(loader, new Class<?>[] {contextType}, handler);
  }

  /** A LambdaLogger that writes to the gateway's log. */
  @SuppressWarnings("ReferenceEquality") // as context(): a proxy equals only itself
  private static Object logger(Class<?> loggerType, String function) {
    InvocationHandler handler =
        (proxy, method, args) -> {
          if (method.getName().equals("log") && args != null && args.length >= 1) {
            Object message = args[0];
            String text =
                message instanceof byte[] b
                    ? new String(b, StandardCharsets.UTF_8)
                    : String.valueOf(message);
            LOG.info(() -> function + ": " + text.stripTrailing());
            return null;
          }
          if (method.isDefault()) {
            return InvocationHandler.invokeDefault(proxy, method, args);
          }
          return switch (method.getName()) {
            case "toString" -> "LambdaLogger[" + function + "]";
            case "hashCode" -> System.identityHashCode(proxy);
            case "equals" -> proxy == args[0];
            default -> null;
          };
        };
    return Proxy.newProxyInstance(
        loggerType.getClassLoader(), new Class<?>[] {loggerType}, handler);
  }

  /** A handler's result as a value {@link Json#write} takes: beans by their getters. */
  static Object jsonValue(Object v, int depth) {
    if (depth > Json.MAX_DEPTH) {
      throw new IllegalArgumentException("the handler's result nests too deeply");
    }
    if (v == null) {
      return Json.NULL;
    }
    if (v instanceof String || v instanceof Boolean || v instanceof Long || v instanceof Double) {
      return v;
    }
    if (v instanceof CharSequence || v instanceof Character || v instanceof Enum<?>) {
      return v.toString();
    }
    if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    if (v instanceof Map<?, ?> m) {
      Map<String, Object> out = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        out.put(String.valueOf(e.getKey()), jsonValue(e.getValue(), depth + 1));
      }
      return out;
    }
    if (v instanceof Collection<?> c) {
      List<Object> out = new ArrayList<>();
      for (Object o : c) {
        out.add(jsonValue(o, depth + 1));
      }
      return out;
    }
    if (v.getClass().isArray()) {
      List<Object> out = new ArrayList<>();
      for (int i = 0; i < Array.getLength(v); i++) {
        out.add(jsonValue(Array.get(v, i), depth + 1));
      }
      return out;
    }
    Map<String, Object> bean = new LinkedHashMap<>();
    for (Method m : v.getClass().getMethods()) {
      String name = m.getName();
      if (m.getParameterCount() != 0
          || Modifier.isStatic(m.getModifiers())
          || m.getDeclaringClass() == Object.class) {
        continue;
      }
      String property;
      if (name.startsWith("get") && name.length() > 3) {
        property = name.substring(3);
      } else if (name.startsWith("is") && name.length() > 2 && m.getReturnType() == boolean.class) {
        property = name.substring(2);
      } else {
        continue;
      }
      Object value;
      try {
        value = m.invoke(v);
      } catch (ReflectiveOperationException | RuntimeException e) {
        continue;
      }
      if (value != null) {
        bean.put(
            property.substring(0, 1).toLowerCase(Locale.ROOT) + property.substring(1),
            jsonValue(value, depth + 1));
      }
    }
    return bean;
  }
}
