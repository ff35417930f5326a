package dev.locallambdas.transport.inprocess;

import dev.locallambdas.json.Json;
import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Binds a parsed JSON event to a handler's declared input type, as the Java runtime client does for
 * a {@code RequestHandler<I, O>}: a bean (such as the events library's {@code
 * APIGatewayV2HTTPEvent}) is created with its no-argument constructor and filled through its
 * setters, or fields, whose names match the JSON keys (case-insensitively, as the client's
 * serialisation does); maps, lists, arrays, strings, numbers, booleans and enums as such, by the
 * generic types declared. Keys without a property are ignored; a value of the wrong shape is an
 * error naming the property.
 */
final class Binding {
  private Binding() {}

  /** A value that cannot become the declared type. */
  static final class BindException extends Exception {
    private static final long serialVersionUID = 1L;

    BindException(String message) {
      super(message);
    }
  }

  static Object bind(Object json, Type type) throws BindException {
    return bind(json, type, "event", 0);
  }

  private static Object bind(Object json, Type type, String where, int depth) throws BindException {
    if (depth > Json.MAX_DEPTH) {
      throw new BindException(where + " nests too deeply");
    }
    Class<?> raw = raw(type);
    if (Json.absent(json)) {
      return raw.isPrimitive() ? defaultOf(raw) : null;
    }
    if (raw == Object.class) {
      return json;
    }
    if (raw == String.class) {
      return json instanceof String s ? s : Json.write(json);
    }
    if (raw == boolean.class || raw == Boolean.class) {
      if (json instanceof Boolean b) {
        return b;
      }
      throw mismatch(where, "a boolean", json);
    }
    if (Number.class.isAssignableFrom(boxed(raw))) {
      return number(json, boxed(raw), where);
    }
    if (raw.isEnum()) {
      for (Object constant : raw.getEnumConstants()) {
        if (((Enum<?>) constant).name().equalsIgnoreCase(String.valueOf(json))) {
          return constant;
        }
      }
      throw mismatch(where, "one of " + List.of(raw.getEnumConstants()), json);
    }
    if (Map.class.isAssignableFrom(raw)) {
      if (!(json instanceof Map<?, ?> m)) {
        throw mismatch(where, "an object", json);
      }
      Type valueType = argument(type, 1);
      Map<String, Object> out = raw.isInterface() ? new LinkedHashMap<>() : newMap(raw);
      for (Map.Entry<?, ?> e : m.entrySet()) {
        String key = String.valueOf(e.getKey());
        out.put(key, bind(e.getValue(), valueType, where + "." + key, depth + 1));
      }
      return out;
    }
    if (Collection.class.isAssignableFrom(raw) || raw.isArray()) {
      if (!(json instanceof List<?> list)) {
        throw mismatch(where, "an array", json);
      }
      Type element =
          raw.isArray()
              ? (type instanceof GenericArrayType g
                  ? g.getGenericComponentType()
                  : raw.getComponentType())
              : argument(type, 0);
      List<Object> items = new ArrayList<>();
      for (int i = 0; i < list.size(); i++) {
        items.add(bind(list.get(i), element, where + "[" + i + "]", depth + 1));
      }
      if (raw.isArray()) {
        Object array = Array.newInstance(raw.getComponentType(), items.size());
        for (int i = 0; i < items.size(); i++) {
          Array.set(array, i, items.get(i));
        }
        return array;
      }
      return Set.class.isAssignableFrom(raw) ? new LinkedHashSet<>(items) : items;
    }
    if (!(json instanceof Map<?, ?> m)) {
      throw mismatch(where, "an object for " + raw.getSimpleName(), json);
    }
    return bean(m, raw, where, depth);
  }

  private static Object bean(Map<?, ?> json, Class<?> raw, String where, int depth)
      throws BindException {
    Object bean;
    try {
      Constructor<?> c = raw.getDeclaredConstructor();
      c.setAccessible(true);
      bean = c.newInstance();
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new BindException(
          where + ": " + raw.getName() + " has no usable no-argument constructor (" + e + ")");
    }
    Map<String, Method> setters = new HashMap<>();
    for (Method m : raw.getMethods()) {
      if (m.getName().startsWith("set")
          && m.getName().length() > 3
          && m.getParameterCount() == 1
          && !Modifier.isStatic(m.getModifiers())) {
        setters.putIfAbsent(m.getName().substring(3).toLowerCase(Locale.ROOT), m);
      }
    }
    for (Map.Entry<?, ?> e : json.entrySet()) {
      String key = String.valueOf(e.getKey());
      String name = key.toLowerCase(Locale.ROOT);
      String at = where + "." + key;
      try {
        Method setter = setters.get(name);
        if (setter == null && name.startsWith("is")) {
          setter = setters.get(name.substring(2)); // isBase64Encoded: setBase64Encoded
        }
        if (setter != null) {
          setter.invoke(
              bean, bind(e.getValue(), setter.getGenericParameterTypes()[0], at, depth + 1));
          continue;
        }
        Field field = field(raw, name);
        if (field != null) {
          field.setAccessible(true);
          field.set(bean, bind(e.getValue(), field.getGenericType(), at, depth + 1));
        }
      } catch (ReflectiveOperationException | RuntimeException x) {
        throw new BindException(at + " cannot be set: " + x);
      }
    }
    return bean;
  }

  private static Field field(Class<?> type, String lowerName) {
    for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (!Modifier.isStatic(f.getModifiers())
            && !Modifier.isFinal(f.getModifiers())
            && f.getName().toLowerCase(Locale.ROOT).equals(lowerName)) {
          return f;
        }
      }
    }
    return null;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> newMap(Class<?> raw) throws BindException {
    try {
      return (Map<String, Object>) raw.getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new BindException("cannot create a " + raw.getName());
    }
  }

  private static Object number(Object json, Class<?> type, String where) throws BindException {
    Number n;
    if (json instanceof Number number) {
      n = number;
    } else if (json instanceof String s) {
      try {
        n = Double.parseDouble(s);
      } catch (NumberFormatException e) {
        throw mismatch(where, "a number", json);
      }
    } else {
      throw mismatch(where, "a number", json);
    }
    if (type == Integer.class) {
      return n.intValue();
    }
    if (type == Long.class) {
      return n.longValue();
    }
    if (type == Double.class) {
      return n.doubleValue();
    }
    if (type == Float.class) {
      return n.floatValue();
    }
    if (type == Short.class) {
      return n.shortValue();
    }
    if (type == Byte.class) {
      return n.byteValue();
    }
    if (type == java.math.BigDecimal.class) {
      return new java.math.BigDecimal(n.toString());
    }
    if (type == java.math.BigInteger.class) {
      return java.math.BigInteger.valueOf(n.longValue());
    }
    return n;
  }

  private static BindException mismatch(String where, String expected, Object json) {
    String shown = Json.write(json);
    if (shown.length() > 80) {
      shown = shown.substring(0, 80) + "...";
    }
    return new BindException(where + " should be " + expected + ", not " + shown);
  }

  private static Class<?> raw(Type type) {
    if (type instanceof Class<?> c) {
      return c;
    }
    if (type instanceof ParameterizedType p) {
      return (Class<?>) p.getRawType();
    }
    if (type instanceof GenericArrayType g) {
      return Array.newInstance(raw(g.getGenericComponentType()), 0).getClass();
    }
    return Object.class; // a type variable or wildcard: take the JSON as it is
  }

  private static Type argument(Type type, int i) {
    if (type instanceof ParameterizedType p && p.getActualTypeArguments().length > i) {
      return p.getActualTypeArguments()[i];
    }
    return Object.class;
  }

  private static Class<?> boxed(Class<?> c) {
    if (!c.isPrimitive()) {
      return c;
    }
    return switch (c.getName()) {
      case "int" -> Integer.class;
      case "long" -> Long.class;
      case "double" -> Double.class;
      case "float" -> Float.class;
      case "short" -> Short.class;
      case "byte" -> Byte.class;
      case "boolean" -> Boolean.class;
      case "char" -> Character.class;
      default -> Void.class;
    };
  }

  private static Object defaultOf(Class<?> primitive) {
    return Array.get(Array.newInstance(primitive, 1), 0);
  }
}
