// The application menu as data: File (Lock vault, Quit), Edit (the clipboard roles text fields
// need), View (reload and DevTools only in development), Help (About). Built by a pure function
// so the packaged/development difference is tested in Node.
import type { MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  readonly lockVault: () => void;
  readonly about: () => void;
}

export function menuTemplate(options: { readonly packaged: boolean; readonly platform: NodeJS.Platform }, actions: MenuActions): MenuItemConstructorOptions[] {
  const isMac = options.platform === 'darwin';
  const view: MenuItemConstructorOptions[] = options.packaged
    ? [{ role: 'togglefullscreen' }]
    : [{ role: 'reload' }, { role: 'toggleDevTools' }, { type: 'separator' }, { role: 'togglefullscreen' }];
  return [
    ...(isMac ? [{ role: 'appMenu' } as MenuItemConstructorOptions] : []),
    {
      label: '&File',
      submenu: [
        { label: 'Lock vault', accelerator: 'CmdOrCtrl+L', click: () => actions.lockVault() },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    {
      label: '&Edit',
      submenu: [{ role: 'undo' }, { role: 'redo' }, { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }],
    },
    { label: '&View', submenu: view },
    { label: '&Help', submenu: [{ label: 'About DeskKMS', click: () => actions.about() }] },
  ];
}
