package dev.locallambdas.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class RouteTableTest {

  private static String route(RouteTable<String> table, String path) {
    RouteTable.Match<String> m = table.match(path);
    return m == null ? null : m.target();
  }

  @Test
  void exactRouteMatchesOnlyItsOwnPath() {
    RouteTable<String> t = RouteTable.<String>builder().add("/health", "health").build();
    assertThat(route(t, "/health")).isEqualTo("health");
    assertThat(route(t, "/health/")).isNull();
    assertThat(route(t, "/health/x")).isNull();
    assertThat(route(t, "/healthz")).isNull();
    assertThat(route(t, "/")).isNull();
  }

  @Test
  void prefixRouteMatchesItsBaseAndEverythingBelowButNoSibling() {
    RouteTable<String> t = RouteTable.<String>builder().add("/api/*", "api").build();
    assertThat(route(t, "/api")).isEqualTo("api");
    assertThat(route(t, "/api/")).isEqualTo("api");
    assertThat(route(t, "/api/a/b")).isEqualTo("api");
    assertThat(route(t, "/api/a/b/")).isEqualTo("api");
    assertThat(route(t, "/apix")).isNull();
    assertThat(route(t, "/apix/y")).isNull();
    assertThat(route(t, "/ap")).isNull();
    assertThat(route(t, "/")).isNull();
  }

  @Test
  void rootPrefixMatchesEveryPath() {
    RouteTable<String> t = RouteTable.<String>builder().add("/*", "all").build();
    for (String p : List.of("/", "/a", "/a/", "/a/b/c")) {
      assertThat(t.match(p)).isEqualTo(new RouteTable.Match<>("all", "/*"));
    }
  }

  @Test
  void trailingSlashRouteMatchesEverythingUnderItButNotItsBase() {
    RouteTable<String> t = RouteTable.<String>builder().add("/static/", "static").build();
    assertThat(route(t, "/static/")).isEqualTo("static");
    assertThat(route(t, "/static/a")).isEqualTo("static");
    assertThat(route(t, "/static/a/b/")).isEqualTo("static");
    assertThat(route(t, "/static")).isNull();
    assertThat(route(t, "/staticx")).isNull();
    assertThat(route(t, "/staticx/a")).isNull();
  }

  @Test
  void rootTrailingSlashRouteMatchesEveryPath() {
    RouteTable<String> t = RouteTable.<String>builder().add("/", "root").build();
    assertThat(route(t, "/")).isEqualTo("root");
    assertThat(route(t, "/a/b")).isEqualTo("root");
  }

  @Test
  void exactRouteBeatsPrefixRoutesWhateverTheOrder() {
    RouteTable<String> before =
        RouteTable.<String>builder().add("/api/health", "exact").add("/api/*", "prefix").build();
    RouteTable<String> after =
        RouteTable.<String>builder().add("/api/*", "prefix").add("/api/health", "exact").build();
    for (RouteTable<String> t : List.of(before, after)) {
      assertThat(route(t, "/api/health")).isEqualTo("exact");
      assertThat(route(t, "/api/health/")).isEqualTo("prefix");
      assertThat(route(t, "/api/healthz")).isEqualTo("prefix");
    }
  }

  @Test
  void exactRouteBeatsPrefixRouteOnTheSamePath() {
    RouteTable<String> t =
        RouteTable.<String>builder().add("/api/*", "prefix").add("/api", "exact").build();
    assertThat(route(t, "/api")).isEqualTo("exact");
    assertThat(route(t, "/api/")).isEqualTo("prefix");
  }

  @Test
  void prefixWithMoreSegmentsWinsWhateverTheOrder() {
    RouteTable<String> a =
        RouteTable.<String>builder()
            .add("/*", "root")
            .add("/api/*", "api")
            .add("/api/v1/*", "v1")
            .add("/api/v1/admin/", "admin")
            .build();
    RouteTable<String> b =
        RouteTable.<String>builder()
            .add("/api/v1/admin/", "admin")
            .add("/api/v1/*", "v1")
            .add("/api/*", "api")
            .add("/*", "root")
            .build();
    for (RouteTable<String> t : List.of(a, b)) {
      assertThat(route(t, "/")).isEqualTo("root");
      assertThat(route(t, "/apix")).isEqualTo("root");
      assertThat(route(t, "/api")).isEqualTo("api");
      assertThat(route(t, "/api/v2/x")).isEqualTo("api");
      assertThat(route(t, "/api/v1")).isEqualTo("v1");
      assertThat(route(t, "/api/v1/x/y")).isEqualTo("v1");
      assertThat(route(t, "/api/v1/admin")).isEqualTo("v1");
      assertThat(route(t, "/api/v1/admin/")).isEqualTo("admin");
      assertThat(route(t, "/api/v1/admin/users")).isEqualTo("admin");
    }
  }

  @Test
  void returnsNullWhenNothingMatches() {
    RouteTable<String> t = RouteTable.<String>builder().add("/a/*", "a").build();
    assertThat(t.match("/b")).isNull();
    assertThat(RouteTable.<String>builder().build().match("/")).isNull();
  }

  @Test
  void reportsThePatternThatMatched() {
    RouteTable<String> t = RouteTable.<String>builder().add("/api/*", "api").build();
    assertThat(t.match("/api/x")).isEqualTo(new RouteTable.Match<>("api", "/api/*"));
  }

  @Test
  void listsRoutesInTheOrderTheyWereAdded() {
    RouteTable<String> t =
        RouteTable.<String>builder().add("/b/*", "b").add("/a", "a").add("/c/", "c").build();
    assertThat(t.routes())
        .extracting(RouteTable.Match::pattern)
        .containsExactly("/b/*", "/a", "/c/");
  }

  @Test
  void refusesTheSamePatternTwice() {
    assertThatThrownBy(() -> RouteTable.<String>builder().add("/api/*", "one").add("/api/*", "two"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("route '/api/*' conflicts with route '/api/*', added before")
        .hasMessageContaining("the same pattern is given twice");
    assertThatThrownBy(() -> RouteTable.<String>builder().add("/h", "one").add("/h", "two"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'/h' conflicts with route '/h', added before");
  }

  @Test
  void refusesPrefixAndTrailingSlashRoutesOnTheSameBase() {
    assertThatThrownBy(() -> RouteTable.<String>builder().add("/x/*", "one").add("/x/", "two"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("route '/x/' conflicts with route '/x/*', added before")
        .hasMessageContaining("both match every path under '/x/'");
    assertThatThrownBy(() -> RouteTable.<String>builder().add("/", "one").add("/*", "two"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("route '/*' conflicts with route '/', added before");
  }

  @Test
  void refusesMalformedPatterns() {
    assertRefused("api/*", "must start with '/'");
    assertRefused("/a*", "'*' is only allowed as a final '/*' segment");
    assertRefused("/a/*/b", "'*' is only allowed as a final '/*' segment");
    assertRefused("/a/**", "'*' is only allowed as a final '/*' segment");
    assertRefused("/a?x=1", "contains '?'");
    assertRefused("/a b", "is not a valid path: a space at index 2");
    assertRefused(
        "/a//b", "is not in canonical form and could never match as written; write '/a/b'");
    assertRefused("/a/../b/*", "write '/b/*'");
    assertRefused("/%7euser/", "write '/~user/'");
    assertRefused("/a%2fb", "write '/a%2Fb'");
    assertRefused("/../*", "climbs above the root");
  }

  @Test
  void refusesRoutesUnderTheReservedPrefixOnly() {
    assertRefused("/.local-lambdas/*", "is under /.local-lambdas");
    assertRefused("/.local-lambdas", "is under /.local-lambdas");
    assertRefused("/.local-lambdas/", "is under /.local-lambdas");
    assertRefused("/.local-lambdas/functions/x", "is under /.local-lambdas");
    RouteTable<String> t =
        RouteTable.<String>builder()
            .add("/.local-lambdasx", "sibling")
            .add("/*", "all")
            .add("/.Local-Lambdas/*", "other case")
            .build();
    assertThat(route(t, "/.local-lambdasx")).isEqualTo("sibling");
  }

  @Test
  void theReservedPrefixIsWhatTheAdminApiOwns() {
    for (String path :
        List.of("/.local-lambdas", "/.local-lambdas/", "/.local-lambdas/functions", "/x")) {
      boolean reserved =
          path.equals(RouteTable.RESERVED_PREFIX)
              || path.startsWith(RouteTable.RESERVED_PREFIX + "/");
      assertThat(dev.locallambdas.admin.AdminApi.owns(path)).as(path).isEqualTo(reserved);
    }
  }

  @Test
  void conflictMessagesNeverNameTheTargetsWhichMayHaveNoReadableName() {
    Object first = new Object();
    assertThatThrownBy(() -> RouteTable.builder().add("/x/*", first).add("/x/", new Object()))
        .hasMessage(
            "route '/x/' conflicts with route '/x/*', added before: both match every path under"
                + " '/x/' with the same specificity; keep one of them");
  }

  @Test
  void conflictingNamesTheRouteAnAddWouldConflictWith() {
    RouteTable.Builder<String> b = RouteTable.<String>builder().add("/x/*", "x").add("/y", "y");
    assertThat(b.conflicting("/x/")).isEqualTo(new RouteTable.Match<>("x", "/x/*"));
    assertThat(b.conflicting("/y")).isEqualTo(new RouteTable.Match<>("y", "/y"));
    assertThat(b.conflicting("/y/*")).isNull();
    assertThat(b.conflicting("/x")).isNull();
  }

  private static void assertRefused(String pattern, String message) {
    assertThatThrownBy(() -> RouteTable.<String>builder().add(pattern, "t"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("route '" + pattern + "'")
        .hasMessageContaining(message);
  }

  @Test
  void encodedSlashesAndMatrixParametersCannotReachAnotherRoute() throws Exception {
    RouteTable<String> t =
        RouteTable.<String>builder()
            .add("/admin/*", "admin")
            .add("/api/*", "api")
            .add("/static/", "static")
            .add("/*", "public")
            .build();
    assertThat(routeTarget(t, "/api/..%2F..%2Fadmin")).isEqualTo("api");
    assertThat(routeTarget(t, "/api%2F..%2Fadmin")).isEqualTo("public");
    assertThat(routeTarget(t, "/static%2F..%2Fadmin/x")).isEqualTo("public");
    assertThat(routeTarget(t, "/static/..%5C..%5Cadmin")).isEqualTo("static");
    assertThat(routeTarget(t, "/api;x=1/y")).isEqualTo("public");
    assertThat(routeTarget(t, "/api/%2e%2e/admin/x")).isEqualTo("admin");
    assertThat(routeTarget(t, "/%61dmin/x")).isEqualTo("admin");
    assertThat(routeTarget(t, "//admin//x")).isEqualTo("admin");
  }

  private static String routeTarget(RouteTable<String> t, String rawTarget) throws Exception {
    return route(t, RequestTarget.parse(rawTarget).path());
  }
}
