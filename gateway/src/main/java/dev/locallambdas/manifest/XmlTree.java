package dev.locallambdas.manifest;

import dev.locallambdas.manifest.XmlElement.XmlAttribute;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import javax.xml.XMLConstants;
import javax.xml.stream.Location;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * Reads a manifest file into {@link XmlElement}s with line numbers. DTDs are refused outright: a
 * manifest never needs one, and refusing them closes the door on external entities (XXE) and entity
 * expansion bombs regardless of the parser's other settings.
 */
final class XmlTree {
  private XmlTree() {}

  /** The root element, or null after recording why the file could not be read as XML. */
  static XmlElement parse(InputStream in, String systemId, Problems problems) {
    XMLStreamReader r = null;
    try {
      r = factory().createXMLStreamReader(systemId, in);
      Deque<Builder> open = new ArrayDeque<>();
      XmlElement root = null;
      while (r.hasNext()) {
        int event = r.next();
        switch (event) {
          case XMLStreamConstants.DTD -> {
            problems.add(
                startLine(r.getLocation(), r.getText(), 0),
                null,
                "<!DOCTYPE> is not allowed in a manifest: remove it (DTDs and entities are refused"
                    + " to keep external files out)");
            return null;
          }
          case XMLStreamConstants.START_ELEMENT -> {
            Builder b = new Builder(qualifiedName(r), line(r.getLocation()));
            String ns = r.getNamespaceURI();
            b.namespace = ns == null ? "" : ns;
            String parentNamespace = open.isEmpty() ? "" : open.peek().namespace;
            // Reported where it is declared, not again for every element that inherits it.
            if (!b.namespace.isEmpty() && !b.namespace.equals(parentNamespace)) {
              problems.add(
                  b.line,
                  "<" + b.name + ">",
                  "is in the XML namespace '"
                      + ns
                      + "': manifest elements use no namespace,"
                      + " remove the xmlns declaration");
            }
            for (int i = 0; i < r.getAttributeCount(); i++) {
              String prefix = r.getAttributePrefix(i);
              String local = r.getAttributeLocalName(i);
              String attrNs = r.getAttributeNamespace(i);
              b.attributes.add(
                  new XmlAttribute(
                      attrNs == null ? "" : attrNs,
                      prefix == null || prefix.isEmpty() ? local : prefix + ":" + local,
                      r.getAttributeValue(i)));
            }
            open.push(b);
          }
          case XMLStreamConstants.CHARACTERS,
              XMLStreamConstants.CDATA,
              XMLStreamConstants.SPACE -> {
            Builder top = open.peek();
            if (top != null) {
              String t = r.getText();
              if (top.textLine == 0 && !t.isBlank()) {
                int firstVisible = 0;
                while (Character.isWhitespace(t.charAt(firstVisible))) {
                  firstVisible++;
                }
                top.textLine = startLine(r.getLocation(), t, firstVisible);
              }
              top.text.append(t);
            }
          }
          case XMLStreamConstants.END_ELEMENT -> {
            XmlElement done = open.pop().build();
            if (open.isEmpty()) {
              root = done;
            } else {
              open.peek().children.add(done);
            }
          }
          default -> {
            // Comments, processing instructions and the document's start and end carry nothing.
          }
        }
      }
      return root;
    } catch (XMLStreamException e) {
      problems.add(line(e.getLocation()), null, "not well-formed XML: " + parserMessage(e));
      return null;
    } catch (RuntimeException e) {
      // The JDK's StAX parser fails on some malformed input with an unchecked exception instead
      // of an XMLStreamException: a DTD declaration with a control byte in it throws
      // MissingResourceException("InvalidCharInDTD"), its error message lacking from the parser's
      // own resources (found by ManifestReaderFuzzTest). It is still malformed XML.
      problems.add(
          lineAfterFailure(r),
          null,
          "not well-formed XML: the XML parser gave up ("
              + e.getClass().getSimpleName()
              + (e.getMessage() != null ? ": " + e.getMessage() : "")
              + ")");
      return null;
    } finally {
      if (r != null) {
        try {
          r.close();
        } catch (XMLStreamException ignored) {
          // Closing a reader over a stream we close ourselves cannot lose anything.
        }
      }
    }
  }

  private static XMLInputFactory factory() {
    // The JDK's own implementation, not whatever a dependency might register as the default.
    XMLInputFactory f = XMLInputFactory.newDefaultFactory();
    f.setProperty(XMLInputFactory.SUPPORT_DTD, false);
    f.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
    f.setProperty(XMLInputFactory.IS_COALESCING, true);
    f.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
    f.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
    return f;
  }

  private static String qualifiedName(XMLStreamReader r) {
    String prefix = r.getPrefix();
    return prefix == null || prefix.isEmpty() ? r.getLocalName() : prefix + ":" + r.getLocalName();
  }

  /**
   * The line of {@code text.charAt(index)}: the parser reports where an event ends, so count back
   * over the event's line breaks.
   */
  private static int startLine(Location end, String text, int index) {
    int line = line(end);
    if (line == 0 || text == null) {
      return line;
    }
    int breaksAfter = 0;
    for (int i = Math.min(index, text.length()); i < text.length(); i++) {
      if (text.charAt(i) == '\n') {
        breaksAfter++;
      }
    }
    return Math.max(1, line - breaksAfter);
  }

  /** Where a parser that failed unexpectedly stopped, if it can still tell; else 0 (no line). */
  private static int lineAfterFailure(XMLStreamReader r) {
    try {
      return r == null ? 0 : line(r.getLocation());
    } catch (RuntimeException e) {
      return 0;
    }
  }

  private static int line(Location location) {
    return location == null ? 0 : Math.max(0, location.getLineNumber());
  }

  /** The parser's own explanation without its "ParseError at [row,col]" preamble. */
  private static String parserMessage(XMLStreamException e) {
    String m = e.getMessage() == null ? e.toString() : e.getMessage();
    int i = m.indexOf("Message: ");
    return (i >= 0 ? m.substring(i + "Message: ".length()) : m).strip();
  }

  private static final class Builder {
    final String name;
    final int line;
    final List<XmlAttribute> attributes = new ArrayList<>();
    final StringBuilder text = new StringBuilder();
    int textLine;
    String namespace = "";
    final List<XmlElement> children = new ArrayList<>();

    Builder(String name, int line) {
      this.name = name;
      this.line = line;
    }

    XmlElement build() {
      return new XmlElement(name, line, attributes, text.toString(), textLine, children);
    }
  }
}
