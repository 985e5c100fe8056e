import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { COMMANDS } from '../../../lib/cli/command-table.js';
import { humanSize, listFormat, renderList } from '../../../lib/cli/output.js';
import { captureCli } from '../../fixtures/cli.js';

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => captureCli(args, env);

describe('cli', () => {
  const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

  it('--version prints the package version', async () => {
    expect(await cli(['--version'])).to.deep.equal({ code: 0, out: `containerkit version ${version}\n`, err: '' });
  });

  it('help lists the commands; no command prints usage and exits 2', async () => {
    const help = await cli(['help']);
    expect(help.code).to.equal(0);
    expect(help.out).to.contain('Usage: containerkit').and.to.contain('version');
    expect((await cli([])).code).to.equal(2);
    const one = await cli(['help', 'version']);
    expect(one.out).to.contain('Usage: containerkit version');
  });

  it('errors print one line with the code and exit non-zero', async () => {
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).to.equal(2);
    expect(unknown.err).to.equal(`containerkit: unknown command "frobnicate"; see 'containerkit help' (ERR_INVALID_ARGUMENT)\n`);
    const badOption = await cli(['version', '--nope']);
    expect(badOption.code).to.equal(2);
    expect(badOption.err.split('\n').filter(Boolean)).to.have.length(1);
    const badGlobal = await cli(['--root']);
    expect(badGlobal.code).to.equal(2);
  });

  it('the command table names and summarises each verb as its module does', async () => {
    for (const entry of COMMANDS) {
      const command = await entry.load();
      expect({ name: command.name, summary: command.summary }).to.deep.equal({ name: entry.name, summary: entry.summary });
    }
  });

  it('listings: docker columns, json lines, ids only', () => {
    const rows = [
      { id: 'abc', name: 'first', size: '1MB' },
      { id: 'defghi', name: 'second-longer', size: '22kB' },
    ];
    const columns = [
      { header: 'ID', value: (r: (typeof rows)[0]) => r.id },
      { header: 'NAME', value: (r: (typeof rows)[0]) => r.name },
      { header: 'SIZE', value: (r: (typeof rows)[0]) => r.size },
    ];
    const table = renderList(
      rows,
      columns,
      'table',
      (r) => r,
      (r) => r.id,
    );
    expect(table).to.equal('ID       NAME            SIZE\nabc      first           1MB\ndefghi   second-longer   22kB\n');
    expect(
      renderList(
        rows,
        columns,
        'json',
        (r) => r,
        (r) => r.id,
      ),
    ).to.equal(`${JSON.stringify(rows[0])}\n${JSON.stringify(rows[1])}\n`);
    expect(
      renderList(
        rows,
        columns,
        'quiet',
        (r) => r,
        (r) => r.id,
      ),
    ).to.equal('abc\ndefghi\n');
    expect(listFormat(undefined, true)).to.equal('quiet');
    expect(listFormat('json', false)).to.equal('json');
    expect(() => listFormat('yaml', false)).to.throw(/--format/);
  });

  it("prints sizes in docker's decimal units and ctr's binary ones", () => {
    expect([0, 999, 1000, 1_056_031, 227e6].map((n) => humanSize(n))).to.deep.equal(['0B', '999B', '1.00kB', '1.06MB', '227MB']);
    expect([512, 1024, 1_056_031, 3 * 1024 ** 3].map((n) => humanSize(n, { binary: true }))).to.deep.equal(['512 B', '1.0 KiB', '1.0 MiB', '3.0 GiB']);
  });
});
