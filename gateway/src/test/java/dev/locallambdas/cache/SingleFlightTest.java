package dev.locallambdas.cache;

import static dev.locallambdas.cache.CacheFixture.headers;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SingleFlightTest {
  private final CacheFixture f = new CacheFixture();

  /** 100 concurrent lookups of one missing URL. */
  private List<Lookup> concurrentLookups(String path) throws Exception {
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Lookup>> futures = new ArrayList<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < 100; i++) {
        futures.add(
            pool.submit(
                () -> {
                  go.await();
                  return f.get(path);
                }));
      }
      go.countDown();
      List<Lookup> out = new ArrayList<>();
      for (Future<Lookup> fu : futures) {
        out.add(fu.get(30, TimeUnit.SECONDS));
      }
      return out;
    }
  }

  private static Lookup.Forward theLeader(List<Lookup> lookups) {
    List<Lookup.Forward> leaders =
        lookups.stream()
            .filter(l -> l instanceof Lookup.Forward fw && fw.leader())
            .map(l -> (Lookup.Forward) l)
            .toList();
    assertThat(leaders).hasSize(1);
    assertThat(lookups.stream().filter(l -> l instanceof Lookup.Wait)).hasSize(99);
    return leaders.getFirst();
  }

  private static List<Lookup> outcomes(List<Lookup> lookups) throws Exception {
    List<Lookup> out = new ArrayList<>();
    for (Lookup l : lookups) {
      if (l instanceof Lookup.Wait w) {
        out.add(w.outcome().get(30, TimeUnit.SECONDS));
      }
    }
    return out;
  }

  @Test
  void concurrentMissesMakeOneFunctionCallAndShareItsResponse() throws Exception {
    List<Lookup> lookups = concurrentLookups("/fn/a");
    Lookup.Forward leader = theLeader(lookups);
    CompletableFuture<?> any =
        ((Lookup.Wait)
                lookups.stream().filter(l -> l instanceof Lookup.Wait).findFirst().orElseThrow())
            .outcome();
    assertThat(any).isNotDone();

    CacheFixture.respond(leader, 200, headers("cache-control", "max-age=60"), "shared");

    List<Lookup> results = outcomes(lookups);
    assertThat(results).hasSize(99).allSatisfy(r -> assertThat(r).isInstanceOf(Lookup.Hit.class));
    assertThat(results)
        .allSatisfy(r -> assertThat(CacheFixture.body((Lookup.Hit) r)).isEqualTo("shared"));
    CacheStats s = f.cache.stats(CacheFixture.FN);
    assertThat(s.misses()).isEqualTo(1);
    assertThat(s.hits()).isEqualTo(99);
  }

  @Test
  void abandoningTheLeaderSendsTheWaitingRequestsToTheFunction() throws Exception {
    List<Lookup> lookups = concurrentLookups("/fn/a");
    Lookup.Forward leader = theLeader(lookups);

    leader.done(); // e.g. the function failed before answering

    List<Lookup> results = outcomes(lookups);
    assertThat(results)
        .allSatisfy(
            r -> {
              assertThat(r).isInstanceOf(Lookup.Forward.class);
              assertThat(((Lookup.Forward) r).leader()).isFalse();
              assertThat(((Lookup.Forward) r).xCache()).isEqualTo("MISS");
            });
    // The next request leads a new flight.
    assertThat(f.get("/fn/a"))
        .isInstanceOfSatisfying(Lookup.Forward.class, fw -> assertThat(fw.leader()).isTrue());
  }

  @Test
  void anUncacheableResponseSendsTheWaitingRequestsToTheFunction() throws Exception {
    List<Lookup> lookups = concurrentLookups("/fn/a");
    Lookup.Forward leader = theLeader(lookups);

    CacheFixture.respond(leader, 200, headers("cache-control", "private"), "for one client");

    assertThat(outcomes(lookups)).allSatisfy(r -> assertThat(r).isInstanceOf(Lookup.Forward.class));
  }

  @Test
  void waitersWhoseVaryFieldsDifferGoToTheFunction() throws Exception {
    Lookup.Forward leader = (Lookup.Forward) f.get("/fn/a", "accept-language", "en");
    Lookup.Wait same = (Lookup.Wait) f.get("/fn/a", "accept-language", "en");
    Lookup.Wait other = (Lookup.Wait) f.get("/fn/a", "accept-language", "de");

    CacheFixture.respond(leader, 200, headers("vary", "accept-language"), "hello");

    assertThat(same.outcome().get()).isInstanceOf(Lookup.Hit.class);
    assertThat(other.outcome().get()).isInstanceOf(Lookup.Forward.class);
  }

  @Test
  void headRequestsWaitForAGetInFlight() throws Exception {
    Lookup.Forward leader = (Lookup.Forward) f.get("/fn/a");
    Lookup.Wait head = (Lookup.Wait) f.fn.lookup("HEAD", "/fn/a", null, CacheFixture.fields());

    CacheFixture.respond(leader, 200, headers(), "body");

    assertThat(head.outcome().get()).isInstanceOf(Lookup.Hit.class);
  }

  @Test
  void doneAfterTheResponseIsHarmless() throws Exception {
    Lookup.Forward leader = (Lookup.Forward) f.get("/fn/a");
    Lookup.Wait w = (Lookup.Wait) f.get("/fn/a");
    CacheFixture.respond(leader, 200, headers(), "body");
    leader.done();
    leader.done();

    assertThat(w.outcome().get()).isInstanceOf(Lookup.Hit.class);
  }
}
