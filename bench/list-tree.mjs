// @ts-check
/**
 * Lists a whole tree through an fs API, directory by directory (readdir with file types), as a
 * program walking it would: the listing the load and scale figures time. Plain JavaScript so the
 * children that measure dist/ (load-child.mjs, scale-child.mjs) run no TypeScript loader.
 */

/**
 * @param {{ readdirSync(path: string, opts: { withFileTypes: true }): Array<{ name: string; isDirectory(): boolean }> }} fs
 * @returns {number} the entries seen
 */
export function listTree(fs) {
  let entries = 0;
  /** @param {string} dir */
  const walk = (dir) => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      entries++;
      if (d.isDirectory()) walk(dir === '/' ? `/${d.name}` : `${dir}/${d.name}`);
    }
  };
  walk('/');
  return entries;
}
