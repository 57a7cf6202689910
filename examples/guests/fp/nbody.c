/*
 * FP workload guest: an n-body simulation (the classic five planets) and a matrix multiply in
 * double precision, built freestanding (-march=rv64gc -mabi=lp64d -O2) and run bare-metal.
 * It prints checksums (raw IEEE bits of the results, so that any difference shows) through HTIF
 * and exits through `tohost`. Used by tests/hw/riscv/fp_workload_test.ts, which runs it on our
 * hart and on QEMU and compares the output, and by the FP benchmark.
 */

#define PI 3.141592653589793
#define SOLAR_MASS (4 * PI * PI)
#define DAYS_PER_YEAR 365.24
#define BODIES 5
#define N 24

void htif_putchar(char c);

struct body {
  double x, y, z, vx, vy, vz, mass;
};

static struct body bodies[BODIES] = {
  {0, 0, 0, 0, 0, 0, SOLAR_MASS},
  {4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
   1.66007664274403694e-03 * DAYS_PER_YEAR, 7.69901118419740425e-03 * DAYS_PER_YEAR,
   -6.90460016972063023e-05 * DAYS_PER_YEAR, 9.54791938424326609e-04 * SOLAR_MASS},
  {8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
   -2.76742510726862411e-03 * DAYS_PER_YEAR, 4.99852801234917238e-03 * DAYS_PER_YEAR,
   2.30417297573763929e-05 * DAYS_PER_YEAR, 2.85885980666130812e-04 * SOLAR_MASS},
  {1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
   2.96460137564761618e-03 * DAYS_PER_YEAR, 2.37847173959480950e-03 * DAYS_PER_YEAR,
   -2.96589568540237556e-05 * DAYS_PER_YEAR, 4.36624404335156298e-05 * SOLAR_MASS},
  {1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
   2.68067772490389322e-03 * DAYS_PER_YEAR, 1.62824170038242295e-03 * DAYS_PER_YEAR,
   -9.51592254519715870e-05 * DAYS_PER_YEAR, 5.15138902046611451e-05 * SOLAR_MASS},
};

static void puts_(const char *s) {
  while (*s) htif_putchar(*s++);
}

static void put_hex(unsigned long v) {
  for (int i = 60; i >= 0; i -= 4) htif_putchar("0123456789abcdef"[(v >> i) & 15]);
}

static unsigned long bits(double d) {
  union {
    double d;
    unsigned long u;
  } v = {d};
  return v.u;
}

static void offset_momentum(void) {
  double px = 0, py = 0, pz = 0;
  for (int i = 0; i < BODIES; i++) {
    px += bodies[i].vx * bodies[i].mass;
    py += bodies[i].vy * bodies[i].mass;
    pz += bodies[i].vz * bodies[i].mass;
  }
  bodies[0].vx = -px / SOLAR_MASS;
  bodies[0].vy = -py / SOLAR_MASS;
  bodies[0].vz = -pz / SOLAR_MASS;
}

static double energy(void) {
  double e = 0;
  for (int i = 0; i < BODIES; i++) {
    struct body *b = &bodies[i];
    e += 0.5 * b->mass * (b->vx * b->vx + b->vy * b->vy + b->vz * b->vz);
    for (int j = i + 1; j < BODIES; j++) {
      struct body *c = &bodies[j];
      double dx = b->x - c->x, dy = b->y - c->y, dz = b->z - c->z;
      e -= (b->mass * c->mass) / __builtin_sqrt(dx * dx + dy * dy + dz * dz);
    }
  }
  return e;
}

static void advance(double dt) {
  for (int i = 0; i < BODIES; i++) {
    struct body *b = &bodies[i];
    for (int j = i + 1; j < BODIES; j++) {
      struct body *c = &bodies[j];
      double dx = b->x - c->x, dy = b->y - c->y, dz = b->z - c->z;
      double d2 = dx * dx + dy * dy + dz * dz;
      double mag = dt / (d2 * __builtin_sqrt(d2));
      b->vx -= dx * c->mass * mag;
      b->vy -= dy * c->mass * mag;
      b->vz -= dz * c->mass * mag;
      c->vx += dx * b->mass * mag;
      c->vy += dy * b->mass * mag;
      c->vz += dz * b->mass * mag;
    }
  }
  for (int i = 0; i < BODIES; i++) {
    struct body *b = &bodies[i];
    b->x += dt * b->vx;
    b->y += dt * b->vy;
    b->z += dt * b->vz;
  }
}

static double a[N][N], bm[N][N], cm[N][N];
static float fs[N];

int main(int steps) {
  offset_momentum();
  double e0 = energy();
  for (int s = 0; s < steps; s++) advance(0.01);
  double e1 = energy();
  puts_("nbody e0 ");
  put_hex(bits(e0));
  puts_(" e1 ");
  put_hex(bits(e1));
  puts_(" e1*1e9 ");
  put_hex((unsigned long)(long)(e1 * 1e9));
  puts_("\n");

  for (int i = 0; i < N; i++) {
    for (int j = 0; j < N; j++) {
      a[i][j] = (double)(i + 1) / (double)(j + 2);
      bm[i][j] = (double)(i * j % 7) - 3.25;
    }
  }
  for (int i = 0; i < N; i++) {
    for (int j = 0; j < N; j++) {
      double sum = 0;
      for (int k = 0; k < N; k++) sum += a[i][k] * bm[k][j];
      cm[i][j] = sum;
    }
  }
  double trace = 0;
  float fsum = 0;
  for (int i = 0; i < N; i++) {
    trace += cm[i][i];
    fs[i] = (float)cm[i][(i + 3) % N];
    fsum += fs[i] * 0.5f;
  }
  puts_("matmul trace ");
  put_hex(bits(trace));
  puts_(" fsum ");
  put_hex((unsigned long)(unsigned int)(*(unsigned int *)&fsum));
  puts_("\n");
  return 0;
}
