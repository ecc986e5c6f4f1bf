import { parseCommand } from '/work/main/src/commands/parse.js';
import { concordCommands } from '/work/main/src/commands/registry.js';
const r = concordCommands();
const cases = ['/poc who "a\nb', '/poc set org:EST capability:x <@U1AB> backup:"x\ny,x\ny"', '/poc set org:EST capability:x @bob backup:@Al,@al', '/poc set "abc', '/poc who "x', '/poc who a:b', '/poc', '/poc set org:EST capability:x @bob backup:<@U123>,<@U123|bob>','/poc set org:EST capability:x @bob backup:<@123456>,<@!123456>', '/poc set org:EST capability:x @bob backup:@bob'];
for (const c of cases) {
  try { const p = parseCommand(c, r); console.log(JSON.stringify(c), 'OK', [...p.input.values]); }
  catch (e: any) { console.log(JSON.stringify(c), e.constructor.name, e.code, JSON.stringify(e.message), JSON.stringify(e.usage)); }
}
