package dev.locallambdas.manifest;

import java.util.List;

/**
 * An element of the manifest as read from the file, before any meaning is given to it. {@code text}
 * is all character data directly inside the element, untrimmed; {@code textLine} is the line where
 * its first non-blank character is, or 0 when it is blank.
 */
record XmlElement(
    String name,
    int line,
    List<XmlAttribute> attributes,
    String text,
    int textLine,
    List<XmlElement> children) {

  XmlElement {
    attributes = List.copyOf(attributes);
    children = List.copyOf(children);
  }

  /** The attribute with this name, or null. */
  XmlAttribute attribute(String attributeName) {
    for (XmlAttribute a : attributes) {
      if (a.name().equals(attributeName)) {
        return a;
      }
    }
    return null;
  }

  /** One attribute of an element; {@code namespace} is empty when it has none. */
  record XmlAttribute(String namespace, String name, String value) {}
}
