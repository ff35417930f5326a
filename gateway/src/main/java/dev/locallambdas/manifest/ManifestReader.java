package dev.locallambdas.manifest;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.XMLConstants;

/**
 * Reads manifest.xml in either format: the original local_lambdas format ({@code <manifest>}
 * without attributes) and version 1 ({@code <manifest version="1">}). Every problem in the file is
 * collected in one pass and reported together; a manifest with any problem never yields a {@link
 * Manifest}. See docs/manifest.md.
 */
public final class ManifestReader {
  /** The versions of the new format this reader understands. */
  static final List<String> SUPPORTED_VERSIONS = List.of("1");

  private ManifestReader() {}

  /**
   * Reads and validates a manifest. Relative working directories resolve against the manifest's
   * directory (version 1) or the gateway's working directory (original format).
   */
  public static Manifest read(Path file) throws ManifestException {
    return read(file, Path.of("").toAbsolutePath());
  }

  /** {@link #read(Path)} with the working directory the original format resolves against. */
  static Manifest read(Path file, Path currentDir) throws ManifestException {
    Problems problems = new Problems(file);
    XmlElement root = parse(file, problems);
    if (root == null) {
      throw new ManifestException(problems.sorted());
    }
    Path source = file.toAbsolutePath().normalize();
    Draft draft = new Draft(source, currentDir.toAbsolutePath().normalize(), problems);
    draft.readRoot(root);
    if (!problems.isEmpty()) {
      throw new ManifestException(problems.sorted());
    }
    return new Manifest(source, draft.originalFormat, draft.functions);
  }

  /**
   * Reports functions that cannot be started: a working directory that does not exist, or an
   * executable that is not found. A name without '/' must be an executable file in a directory of
   * the gateway's PATH; a path (resolved against the function's working directory) must exist and
   * be executable. Problems carry no line (0). An empty list means every function can start.
   */
  public static List<ManifestProblem> checkExecutables(Manifest m) {
    return ExecutableCheck.check(m, System.getenv("PATH"));
  }

  private static XmlElement parse(Path file, Problems problems) {
    if (Files.isDirectory(file)) {
      problems.add(0, null, "is a directory, not a manifest file");
      return null;
    }
    try (InputStream in = Files.newInputStream(file)) {
      return XmlTree.parse(in, file.toUri().toString(), problems);
    } catch (NoSuchFileException e) {
      problems.add(0, null, "no such file (looked for " + file.toAbsolutePath().normalize() + ")");
    } catch (AccessDeniedException e) {
      problems.add(0, null, "cannot be read: permission denied");
    } catch (IOException e) {
      problems.add(0, null, "cannot be read: " + e.getMessage());
    }
    return null;
  }

  /**
   * One element directly inside {@code <manifest>}. Gateway-wide settings (such as a future {@code
   * <cache>}) are added as further sections in {@link Draft#sections()}.
   */
  private interface Section {
    void read(Draft draft, XmlElement element);
  }

  /** The manifest being read: its format, the functions read so far and the problems found. */
  private static final class Draft {
    final Path source;
    final Path currentDir;
    final Problems problems;
    boolean originalFormat = true;
    FunctionReader.Context functionContext;
    final List<FunctionSpec> functions = new ArrayList<>();
    final List<FunctionReader.Result> results = new ArrayList<>();

    Draft(Path source, Path currentDir, Problems problems) {
      this.source = source;
      this.currentDir = currentDir;
      this.problems = problems;
    }

    /** The sections of the manifest's format, by element name. */
    Map<String, Section> sections() {
      Map<String, Section> s = new LinkedHashMap<>();
      s.put("process", Draft::readFunction);
      if (!originalFormat) {
        s.put("function", Draft::readFunction);
      }
      return s;
    }

    void readRoot(XmlElement root) {
      if (!root.name().equals("manifest")) {
        problems.add(root.line(), "<" + root.name() + ">", "the root element must be <manifest>");
        return;
      }
      readRootAttributes(root);
      Path manifestDir = source.getParent();
      functionContext =
          new FunctionReader.Context(originalFormat, originalFormat ? currentDir : manifestDir);
      if (!root.text().isBlank()) {
        problems.add(
            root.textLine(),
            "<manifest>",
            "unexpected text '"
                + FunctionReader.abbreviate(root.text().strip())
                + "': <manifest> holds only elements");
      }
      Map<String, Section> sections = sections();
      for (XmlElement child : root.children()) {
        Section section = sections.get(child.name());
        if (section != null) {
          section.read(this, child);
        } else {
          problems.add(child.line(), "<" + child.name() + ">", misplaced(child.name(), sections));
        }
      }
      if (results.isEmpty()) {
        problems.add(
            root.line(),
            "<manifest>",
            "declares no functions: add a <process> with <id>, <executable> and <route>");
      }
      checkUnique();
    }

    private String misplaced(String name, Map<String, Section> sections) {
      if (name.equals("function") && originalFormat) {
        return "is only accepted in version 1 manifests: use <process>, or write"
            + " <manifest version=\"1\">";
      }
      if (FunctionReader.isFunctionElement(name)) {
        return "belongs inside a <process>, not directly in <manifest>";
      }
      String guess = Suggestions.closest(name, sections.keySet());
      return "unknown element in <manifest>"
          + (guess != null
              ? ": did you mean <" + guess + ">?"
              : "; known elements are " + String.join(", ", sections.keySet()));
    }

    private void readRootAttributes(XmlElement root) {
      for (XmlElement.XmlAttribute a : root.attributes()) {
        if (a.namespace().equals(XMLConstants.W3C_XML_SCHEMA_INSTANCE_NS_URI)) {
          continue; // xsi:noNamespaceSchemaLocation lets editors find docs/manifest.xsd
        }
        if (a.name().equals("version")) {
          originalFormat = false;
          String v = a.value().strip();
          if (!SUPPORTED_VERSIONS.contains(v)) {
            problems.add(
                root.line(),
                "<manifest>",
                "version '"
                    + v
                    + "' is not supported: supported versions are "
                    + String.join(", ", SUPPORTED_VERSIONS)
                    + " (leave version out for the original local_lambdas format)");
          }
          continue;
        }
        String guess = Suggestions.closest(a.name(), List.of("version"));
        problems.add(
            root.line(),
            "<manifest>",
            "unknown attribute "
                + a.name()
                + (guess != null ? ": did you mean version?" : ": the only attribute is version"));
      }
    }

    private void readFunction(XmlElement element) {
      FunctionReader.Result r = FunctionReader.read(element, functionContext, problems);
      results.add(r);
      if (r.spec() != null) {
        functions.add(r.spec());
      }
    }

    /** Ids and route patterns must be unique across the whole manifest. */
    private void checkUnique() {
      Map<String, FunctionReader.Result> ids = new HashMap<>();
      Map<String, Owner> routes = new HashMap<>();
      for (FunctionReader.Result r : results) {
        if (r.id() != null) {
          FunctionReader.Result first = ids.putIfAbsent(r.id(), r);
          if (first != null) {
            problems.add(
                r.idLine(),
                "<id>",
                "function id '"
                    + r.id()
                    + "' is used twice, at lines "
                    + first.idLine()
                    + " and "
                    + r.idLine()
                    + ": ids must be unique");
          }
        }
        String who = r.id() != null ? "'" + r.id() + "'" : "a function";
        for (FunctionReader.RouteAt route : r.routes()) {
          Owner first = routes.putIfAbsent(route.pattern(), new Owner(who, route.line()));
          if (first != null) {
            problems.add(
                route.line(),
                "<route>",
                "route '"
                    + route.pattern()
                    + "' is declared twice: by "
                    + first.who()
                    + " at line "
                    + first.line()
                    + " and by "
                    + who
                    + " at line "
                    + route.line()
                    + ": each route belongs to one"
                    + " function");
          }
        }
      }
    }

    private record Owner(String who, int line) {}
  }
}
