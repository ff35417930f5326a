package dev.locallambdas.manifest;

import dev.locallambdas.routing.RouteTable;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;

/**
 * Reads manifest.xml in either format: the original local_lambdas format ({@code <manifest>}
 * without attributes) and version 1 ({@code <manifest version="1">}). Every problem in the file is
 * collected in one pass and reported together; a manifest with any error never yields a {@link
 * Manifest}. What this reader accepts, the gateway serves: every route of an accepted manifest
 * builds a {@link RouteTable}. See docs/manifest.md and docs/decisions/0007.
 */
public final class ManifestReader {
  /** The versions of the new format this reader understands. */
  static final List<String> SUPPORTED_VERSIONS = List.of("1");

  /** A manifest is a few kilobytes; anything this large is not one (and is not read whole). */
  static final int MAX_BYTES = 16 * 1024 * 1024;

  private ManifestReader() {}

  /**
   * Reads and validates a manifest, without looking for its programs. Relative working directories
   * resolve against the manifest's directory (version 1) or the gateway's working directory
   * (original format). Warnings do not stop a manifest from being read.
   */
  public static Manifest read(Path file) throws ManifestException {
    return read(file, Path.of("").toAbsolutePath());
  }

  /** {@link #read(Path)} with the working directory the original format resolves against. */
  static Manifest read(Path file, Path currentDir) throws ManifestException {
    Outcome o = readAll(file, currentDir, null);
    if (o.manifest == null) {
      throw new ManifestException(o.problems.errors());
    }
    return o.manifest;
  }

  /**
   * Everything wrong with a manifest, for {@code validate} and {@code serve}: what {@link #read}
   * refuses, warnings, and programs or working directories that cannot be found (on the gateway's
   * PATH), each at the line that declared it. Never throws.
   */
  public static ManifestCheck check(Path file) {
    return check(file, Path.of("").toAbsolutePath(), System.getenv("PATH"));
  }

  /** {@link #check(Path)} with the working directory and the PATH to use. */
  static ManifestCheck check(Path file, Path currentDir, String pathVariable) {
    Outcome o = readAll(file, currentDir, pathVariable == null ? "" : pathVariable);
    return new ManifestCheck(o.manifest, o.problems.sorted());
  }

  /**
   * Reports functions that cannot be started: a working directory that does not exist, or an
   * executable that is not found. A name without '/' must be an executable file in a directory of
   * the gateway's PATH; a path (resolved against the function's working directory) must exist and
   * be executable. Problems carry no line (0); {@link #check} gives them with lines. An empty list
   * means every function can start.
   */
  public static List<ManifestProblem> checkExecutables(Manifest m) {
    return ExecutableCheck.check(m, System.getenv("PATH"));
  }

  private record Outcome(Manifest manifest, Problems problems) {}

  /** Reads everything; {@code pathVariable} null means programs are not looked for. */
  private static Outcome readAll(Path file, Path currentDir, String pathVariable) {
    Problems problems = new Problems(file);
    XmlElement root = parse(file, problems);
    if (root == null) {
      return new Outcome(null, problems);
    }
    Path source = file.toAbsolutePath().normalize();
    Draft draft = new Draft(source, currentDir.toAbsolutePath().normalize(), problems);
    draft.readRoot(root);
    if (pathVariable != null) {
      draft.checkPrograms(pathVariable);
    }
    Manifest m =
        problems.isEmpty() ? new Manifest(source, draft.originalFormat, draft.functions) : null;
    return new Outcome(m, problems);
  }

  private static XmlElement parse(Path file, Problems problems) {
    if (Files.isDirectory(file)) {
      problems.add(0, null, "is a directory, not a manifest file");
      return null;
    }
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file)) {
      bytes = in.readNBytes(MAX_BYTES + 1);
    } catch (NoSuchFileException e) {
      problems.add(0, null, "no such file (looked for " + file.toAbsolutePath().normalize() + ")");
      return null;
    } catch (AccessDeniedException e) {
      problems.add(0, null, "cannot be read: permission denied");
      return null;
    } catch (IOException e) {
      problems.add(0, null, "cannot be read: " + e.getMessage());
      return null;
    }
    if (bytes.length > MAX_BYTES) {
      problems.add(
          0,
          null,
          "is larger than "
              + (MAX_BYTES >> 20)
              + " MiB, which no manifest needs: is this the right file?");
      return null;
    }
    if (blank(bytes)) {
      // The parser would say "Premature end of file", which hides the simple truth.
      problems.add(
          1,
          null,
          "the file is empty: a manifest is a <manifest> element holding <process> elements, see"
              + " docs/manifest.md");
      return null;
    }
    if (!checkUtf8(bytes, problems)) {
      return null;
    }
    return XmlTree.parse(new ByteArrayInputStream(bytes), file.toUri().toString(), problems);
  }

  private static final Pattern DECLARED_ENCODING =
      Pattern.compile("^<\\?xml[^>]*?encoding\\s*=\\s*[\"']([^\"']*)[\"']");

  /**
   * A file that is meant to be UTF-8 (it says so, or says nothing) must be: the JDK's parser would
   * otherwise print "[Fatal Error] :-1:-1: Invalid byte..." to stderr on its own before reporting
   * the error. Files in another declared encoding (or with a UTF-16 byte order mark) are left to
   * the parser.
   */
  private static boolean checkUtf8(byte[] bytes, Problems problems) {
    if (bytes.length >= 2
        && ((bytes[0] & 0xff) == 0xfe && (bytes[1] & 0xff) == 0xff
            || (bytes[0] & 0xff) == 0xff && (bytes[1] & 0xff) == 0xfe)) {
      return true;
    }
    String prolog =
        new String(bytes, 0, Math.min(bytes.length, 200), StandardCharsets.ISO_8859_1)
            .replaceFirst("^\u00EF\u00BB\u00BF", "");
    Matcher m = DECLARED_ENCODING.matcher(prolog);
    if (m.find() && !m.group(1).strip().equalsIgnoreCase("UTF-8")) {
      return true;
    }
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate(4096);
    while (true) {
      CoderResult result = decoder.decode(in, out.clear(), true);
      if (result.isError()) {
        int at = in.position();
        int line = 1;
        for (int i = 0; i < at; i++) {
          if (bytes[i] == '\n') {
            line++;
          }
        }
        problems.add(
            line,
            null,
            String.format(
                "the file is not valid UTF-8 (byte 0x%02X): save it as UTF-8, or declare its"
                    + " encoding, e.g. <?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>",
                bytes[at] & 0xff));
        return false;
      }
      if (result.isUnderflow()) {
        return true;
      }
    }
  }

  /** True for a file of nothing but whitespace, perhaps after a UTF-8 byte order mark. */
  private static boolean blank(byte[] bytes) {
    int i = 0;
    if (bytes.length >= 3
        && (bytes[0] & 0xff) == 0xef
        && (bytes[1] & 0xff) == 0xbb
        && (bytes[2] & 0xff) == 0xbf) {
      i = 3;
    }
    for (; i < bytes.length; i++) {
      byte b = bytes[i];
      if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
        return false;
      }
    }
    return true;
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
        problems.add(
            root.line(),
            "<" + FunctionReader.abbreviate(root.name()) + ">",
            "the root element must be <manifest>");
        return;
      }
      readRootAttributes(root);
      Path manifestDir = source.getParent();
      functionContext =
          new FunctionReader.Context(
              originalFormat,
              originalFormat ? currentDir : manifestDir,
              manifestDir,
              EnvFiles.besideManifest(manifestDir, problems));
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
          misplaced(child, sections);
        }
      }
      boolean misplacedFunctions =
          root.children().stream().anyMatch(c -> c.name().equals("function"));
      if (results.isEmpty() && !misplacedFunctions) {
        if (originalFormat) {
          // The original ran such a manifest (its own end-to-end test does): no process, every
          // request 404.
          problems.warn(
              root.line(),
              "<manifest>",
              "declares no <process>: nothing is routed, every request gets 404 (add a <process>"
                  + " with <id>, <executable> and <route>)");
        } else {
          problems.add(
              root.line(),
              "<manifest>",
              "declares no functions: add a <process> with <id>, <executable> and <route>");
        }
      }
      checkIds();
      checkRoutes();
    }

    private void misplaced(XmlElement child, Map<String, Section> sections) {
      String name = child.name();
      String where = "<" + FunctionReader.abbreviate(name) + ">";
      if (name.equals("function") && originalFormat) {
        // An error although the original would ignore it: <function> is local-lambdas' own
        // element, so this file was written for local-lambdas, and dropping a function it
        // declares would leave its routes answering 404 for no visible reason.
        problems.add(
            child.line(),
            where,
            "is only accepted in version 1 manifests: use <process>, or write"
                + " <manifest version=\"1\">");
        return;
      }
      String message;
      if (FunctionReader.isFunctionElement(name)) {
        message = "belongs inside a <process>, not directly in <manifest>";
      } else {
        String guess = Suggestions.closest(name, sections.keySet());
        message =
            "unknown element in <manifest>"
                + (guess != null
                    ? ": did you mean <" + guess + ">?"
                    : "; known elements are " + String.join(", ", sections.keySet()));
      }
      if (originalFormat) {
        // The original (serde) ignored elements it did not know.
        problems.warn(
            child.line(), where, "ignored (as the original local_lambdas ignored it): " + message);
      } else {
        problems.add(child.line(), where, message);
      }
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
                "version "
                    + Quote.of(v)
                    + " is not supported: supported versions are "
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
                + FunctionReader.abbreviate(a.name())
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

    /** Ids must be unique across the whole manifest. */
    private void checkIds() {
      Map<String, FunctionReader.Result> ids = new HashMap<>();
      for (FunctionReader.Result r : results) {
        if (r.id() == null) {
          continue;
        }
        FunctionReader.Result first = ids.putIfAbsent(r.id(), r);
        if (first != null) {
          problems.add(
              r.idLine(),
              "<id>",
              "function id "
                  + Quote.of(r.id())
                  + " is used twice, at lines "
                  + first.idLine()
                  + " and "
                  + r.idLine()
                  + ": ids must be unique");
        }
      }
    }

    /**
     * The routes of all functions must build one route table: the very builder the gateway uses, so
     * that {@code serve} can never fail on a route {@code validate} accepted. Each conflict is
     * reported at the later route, naming the earlier one's function and line.
     */
    private void checkRoutes() {
      RouteTable.Builder<RouteOwner> table = RouteTable.builder();
      for (FunctionReader.Result r : results) {
        for (FunctionReader.RouteAt route : r.routes()) {
          RouteTable.Match<RouteOwner> earlier = table.conflicting(route.pattern());
          if (earlier == null) {
            table.add(route.pattern(), new RouteOwner(r.label(), route.line()));
            continue;
          }
          RouteOwner first = earlier.target();
          if (earlier.pattern().equals(route.pattern())) {
            problems.add(
                route.line(),
                "<route> of " + r.label(),
                "route "
                    + Quote.of(route.pattern())
                    + " is declared twice: by "
                    + first.label()
                    + " at line "
                    + first.line()
                    + " and by "
                    + r.label()
                    + " at line "
                    + route.line()
                    + ": each route belongs to one function");
          } else {
            problems.add(
                route.line(),
                "<route> of " + r.label(),
                "route "
                    + Quote.of(route.pattern())
                    + " is ambiguous with route "
                    + Quote.of(earlier.pattern())
                    + " of "
                    + first.label()
                    + " at line "
                    + first.line()
                    + ": "
                    + RouteTable.conflictReason(earlier.pattern(), route.pattern())
                    + "; keep one of them");
          }
        }
      }
    }

    /** Looks for every function's program, whatever else is wrong with the function. */
    void checkPrograms(String pathVariable) {
      for (FunctionReader.Result r : results) {
        // An in-process function's "program" is its code, checked when it is loaded.
        if (r.program() != null
            && (r.spec() == null || r.spec().protocol() != Protocol.IN_PROCESS)) {
          ExecutableCheck.check(r.program(), r.label(), pathVariable, problems);
        }
      }
    }

    private record RouteOwner(String label, int line) {}
  }
}
