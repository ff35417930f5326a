package dev.locallambdas.manifest;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Reads the dotenv files a manifest uses ({@link DotEnv}): the {@code .env} beside it and each
 * {@code <env_file>}. A problem is reported as the env file's own FILE:LINE, never with a value.
 */
final class EnvFiles {
  /** An env file is a few lines; anything larger is not one. */
  static final int MAX_BYTES = 1024 * 1024;

  private EnvFiles() {}

  /** The variables of {@code .env} beside the manifest; empty when there is none. */
  static Map<String, String> besideManifest(Path manifestDir, Problems problems) {
    Path file = manifestDir.resolve(".env");
    if (!Files.isRegularFile(file)) {
      return Map.of();
    }
    Map<String, String> values = parse(file, ".env beside the manifest", problems, 0);
    return values == null ? Map.of() : values;
  }

  /**
   * The variables of an {@code <env_file>} (relative to the manifest's directory), or null after
   * reporting why it cannot be used.
   */
  static Map<String, String> read(
      Path manifestDir, String given, int line, String label, Problems problems) {
    Path file;
    try {
      file = manifestDir.resolve(given).normalize();
    } catch (InvalidPathException e) {
      problems.add(
          line,
          "<env_file> of " + label,
          Quote.of(given) + " is not a valid path: " + e.getReason());
      return null;
    }
    return parse(file, "<env_file> of " + label, problems, line);
  }

  private static Map<String, String> parse(
      Path file, String where, Problems problems, int manifestLine) {
    String text;
    try {
      if (Files.size(file) > MAX_BYTES) {
        problems.add(
            manifestLine,
            where,
            file + " is larger than " + MAX_BYTES / 1024 + " KiB: it is not an env file");
        return null;
      }
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file)))
              .toString();
    } catch (NoSuchFileException e) {
      problems.add(
          manifestLine,
          where,
          file
              + " does not exist: create it (KEY=VALUE lines) or fix the path, which is relative"
              + " to the manifest's directory");
      return null;
    } catch (CharacterCodingException e) {
      problems.add(manifestLine, where, file + " is not UTF-8 text");
      return null;
    } catch (IOException e) {
      problems.add(manifestLine, where, file + " cannot be read: " + e.getMessage());
      return null;
    }
    DotEnv.Parsed parsed = DotEnv.parse(text);
    for (DotEnv.Issue issue : parsed.issues()) {
      problems.addIn(file, issue.line(), null, issue.message(), issue.error());
    }
    return parsed.valid() ? parsed.values() : null;
  }
}
