module.exports = require('./dist/preset/jestPreset.js');
