/**
 * The two libc calls Tether's CLI makes that Node has no API for, through koffi (an FFI library
 * with prebuilt binaries and no install script). Used on Linux only, each best effort: the copy of
 * the CLI bundled with the VS Code extension leaves koffi out (extension/esbuild.mjs), and then
 * loadLibc() says so instead.
 */
export interface Libc {
  /** fcntl(fd, cmd, arg): the result, or -1 with `errno`. */
  fcntl(fd: number, cmd: number, arg: number): { result: number; errno: number };
  /** mallopt(param, value): 1 when the allocator took it (glibc), 0 when not (musl takes none). */
  mallopt(param: number, value: number): number;
}

let loaded: Promise<Libc | string> | undefined;

/** The process's libc, or a string saying why it cannot be reached. Loaded once. */
export function loadLibc(): Promise<Libc | string> {
  loaded ??= import('koffi').then(
    ({ default: koffi }) => {
      const self = koffi.load(null);
      // fcntl is variadic: its third argument is passed as one, with its type.
      const fcntl = self.func('int fcntl(int fd, int cmd, ...)');
      const mallopt = self.func('int mallopt(int param, int value)');
      return {
        fcntl: (fd, cmd, arg) => {
          const result = fcntl(fd, cmd, 'int', arg) as number;
          return { result, errno: result < 0 ? koffi.errno() : 0 };
        },
        mallopt: (param, value) => mallopt(param, value) as number,
      } satisfies Libc;
    },
    (err: Error) => `koffi not available (${err.message.split('\n')[0]})`,
  );
  return loaded;
}
