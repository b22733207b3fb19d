/**
 * The libc calls Tether's CLI makes that Node has no API for, through koffi (an FFI library with
 * prebuilt binaries and no install script). Used on Linux only, each best effort: the copy of the
 * CLI bundled with the VS Code extension leaves koffi out (extension/esbuild.mjs), and then
 * loadLibc() says so instead.
 */
export interface Libc {
  /** fcntl(fd, cmd, arg): the result, or -1 with `errno`. */
  fcntl(fd: number, cmd: number, arg: number): { result: number; errno: number };
  /** mallopt(param, value): 1 when the allocator took it (glibc), 0 when not or where libc has none. */
  mallopt(param: number, value: number): number;
  /** malloc_trim(pad): gives free heap memory back to the system; 1 if any was, 0 if none or where libc has none. */
  mallocTrim(pad: number): number;
}

let loaded: Promise<Libc | string> | undefined;

/** The process's libc, or a string saying why it cannot be reached. Loaded once. */
export function loadLibc(): Promise<Libc | string> {
  loaded ??= import('koffi').then(
    ({ default: koffi }) => {
      const self = koffi.load(null);
      /** A function of libc, or undefined where this libc has none (mallopt and malloc_trim are glibc's). */
      const optional = (signature: string): ((...args: unknown[]) => number) | undefined => {
        try {
          return self.func(signature) as (...args: unknown[]) => number;
        } catch {
          return undefined;
        }
      };
      // fcntl is variadic: its third argument is passed as one, with its type.
      const fcntl = optional('int fcntl(int fd, int cmd, ...)');
      const mallopt = optional('int mallopt(int param, int value)');
      const mallocTrim = optional('int malloc_trim(size_t pad)');
      return {
        fcntl: (fd, cmd, arg) => {
          if (!fcntl) return { result: -1, errno: 38 }; // ENOSYS
          const result = fcntl(fd, cmd, 'int', arg);
          return { result, errno: result < 0 ? koffi.errno() : 0 };
        },
        mallopt: (param, value) => (mallopt ? mallopt(param, value) : 0),
        mallocTrim: (pad) => (mallocTrim ? mallocTrim(pad) : 0),
      } satisfies Libc;
    },
    (err: Error) => `koffi not available (${err.message.split('\n')[0]})`,
  );
  return loaded;
}
