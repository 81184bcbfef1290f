// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MarketFixture} from "./utils/MarketFixture.sol";

/// @notice Commitment test vectors shared with the Rust crates (contracts/test/vectors/commitments.json).
/// They were computed independently of Solidity with `cast abi-encode` and `cast keccak`.
contract CommitmentVectorsTest is MarketFixture {
    string internal constant PATH = "contracts/test/vectors/commitments.json";

    function test_commitmentOf_matchesSharedVectors() public view {
        string memory json = vm.readFile(string.concat(vm.projectRoot(), "/", PATH));
        uint256 count;
        for (; vm.keyExistsJson(json, string.concat(".[", vm.toString(count), "]")); ++count) {
            string memory at = string.concat(".[", vm.toString(count), "]");
            uint256 taskId = vm.parseUint(vm.parseJsonString(json, string.concat(at, ".taskId")));
            address doctor = vm.parseJsonAddress(json, string.concat(at, ".doctor"));
            uint256 diagnosis = vm.parseJsonUint(json, string.concat(at, ".diagnosis"));
            bytes32 salt = vm.parseJsonBytes32(json, string.concat(at, ".salt"));
            bytes32 expected = vm.parseJsonBytes32(json, string.concat(at, ".commitment"));
            assertLe(diagnosis, type(uint8).max);
            // forge-lint: disable-next-line(unsafe-typecast)
            assertEq(market.commitmentOf(taskId, doctor, uint8(diagnosis), salt), expected, at);
        }
        assertGe(count, 6, "too few vectors");
    }

    /// @dev The edge values the vectors must keep covering.
    function test_commitmentOf_vectorsCoverEdges() public view {
        string memory json = vm.readFile(string.concat(vm.projectRoot(), "/", PATH));
        bool task0;
        bool task1;
        bool taskMax;
        bool dx0;
        bool dx255;
        bool zeroSalt;
        for (uint256 i; vm.keyExistsJson(json, string.concat(".[", vm.toString(i), "]")); ++i) {
            string memory at = string.concat(".[", vm.toString(i), "]");
            uint256 taskId = vm.parseUint(vm.parseJsonString(json, string.concat(at, ".taskId")));
            uint256 diagnosis = vm.parseJsonUint(json, string.concat(at, ".diagnosis"));
            bytes32 salt = vm.parseJsonBytes32(json, string.concat(at, ".salt"));
            task0 = task0 || taskId == 0;
            task1 = task1 || taskId == 1;
            taskMax = taskMax || taskId == type(uint256).max;
            dx0 = dx0 || diagnosis == 0;
            dx255 = dx255 || diagnosis == 255;
            zeroSalt = zeroSalt || salt == bytes32(0);
        }
        assertTrue(task0 && task1 && taskMax && dx0 && dx255 && zeroSalt, "edge case missing");
    }
}
