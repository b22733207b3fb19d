// CSS files are bundled by esbuild (dashboard/build.mjs): importing one only adds it to the stylesheet.
declare module '*.css';
