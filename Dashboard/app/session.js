// The signed-in key, kept for the browser session only (sessionStorage), and what it may do.

export const session = {
  get key() { return sessionStorage.getItem('agg.key'); },
  get admin() { return sessionStorage.getItem('agg.admin') === 'true'; },
  get name() { return sessionStorage.getItem('agg.name') || ''; },
  save(key, name, admin) {
    sessionStorage.setItem('agg.key', key);
    sessionStorage.setItem('agg.name', name);
    sessionStorage.setItem('agg.admin', String(admin));
  },
  clear() {
    for (const name of ['agg.key', 'agg.name', 'agg.admin', 'agg.chat']) sessionStorage.removeItem(name);
  },
};
