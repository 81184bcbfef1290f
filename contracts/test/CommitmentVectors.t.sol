// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDiagnosisMarket} from "../src/interfaces/IDiagnosisMarket.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";

/// @notice Commitment test vectors shared with the Rust crates (contracts/test/vectors/commitments.json).
/// They were computed independently of Solidity with `cast abi-encode` and `cast keccak`. Commitments
/// v2 bind the chain id and the market address, so each vector is checked on its own chain id
/// against the market's runtime code placed at the vector's market address.
contract CommitmentVectorsTest is MarketFixture {
    string internal constant PATH = "contracts/test/vectors/commitments.json";

    struct Vector {
        uint256 chainId;
        address market;
        uint256 taskId;
        address doctor;
        uint256 diagnosis;
        bytes32 salt;
        bytes32 commitment;
    }

    function _read(string memory json, uint256 i) internal pure returns (Vector memory v) {
        string memory at = string.concat(".[", vm.toString(i), "]");
        v.chainId = vm.parseUint(vm.parseJsonString(json, string.concat(at, ".chainId")));
        v.market = vm.parseJsonAddress(json, string.concat(at, ".market"));
        v.taskId = vm.parseUint(vm.parseJsonString(json, string.concat(at, ".taskId")));
        v.doctor = vm.parseJsonAddress(json, string.concat(at, ".doctor"));
        v.diagnosis = vm.parseJsonUint(json, string.concat(at, ".diagnosis"));
        v.salt = vm.parseJsonBytes32(json, string.concat(at, ".salt"));
        v.commitment = vm.parseJsonBytes32(json, string.concat(at, ".commitment"));
    }

    function _json() internal view returns (string memory) {
        return vm.readFile(string.concat(vm.projectRoot(), "/", PATH));
    }

    function _count(string memory json) internal view returns (uint256 n) {
        while (vm.keyExistsJson(json, string.concat(".[", vm.toString(n), "]"))) {
            ++n;
        }
    }

    function test_commitmentOf_matchesSharedVectors() public {
        string memory json = _json();
        uint256 count = _count(json);
        bytes memory runtime = address(market).code;
        for (uint256 i; i < count; ++i) {
            Vector memory v = _read(json, i);
            assertLe(v.diagnosis, type(uint8).max);
            vm.chainId(v.chainId);
            vm.etch(v.market, runtime);
            // forge-lint: disable-next-line(unsafe-typecast)
            bytes32 got =
                IDiagnosisMarket(v.market).commitmentOf(v.taskId, v.doctor, uint8(v.diagnosis), v.salt);
            assertEq(got, v.commitment, string.concat("vector ", vm.toString(i)));
            // The same vector on any other chain or at any other address does not match.
            vm.chainId(v.chainId ^ 1);
            // forge-lint: disable-next-line(unsafe-typecast)
            assertTrue(
                IDiagnosisMarket(v.market).commitmentOf(v.taskId, v.doctor, uint8(v.diagnosis), v.salt) != got
            );
        }
        assertGe(count, 6, "too few vectors");
    }

    /// @dev The edge values the vectors must keep covering.
    function test_commitmentOf_vectorsCoverEdges() public view {
        string memory json = _json();
        uint256 count = _count(json);
        bool task0;
        bool task1;
        bool taskMax;
        bool dx0;
        bool dx255;
        bool zeroSalt;
        bool anvilChain;
        bool otherChain;
        bool u64MaxChain;
        bool zeroMarket;
        bool maxMarket;
        for (uint256 i; i < count; ++i) {
            Vector memory v = _read(json, i);
            task0 = task0 || v.taskId == 0;
            task1 = task1 || v.taskId == 1;
            taskMax = taskMax || v.taskId == type(uint256).max;
            dx0 = dx0 || v.diagnosis == 0;
            dx255 = dx255 || v.diagnosis == 255;
            zeroSalt = zeroSalt || v.salt == bytes32(0);
            anvilChain = anvilChain || v.chainId == 31337;
            otherChain = otherChain || v.chainId != 31337;
            u64MaxChain = u64MaxChain || v.chainId == type(uint64).max;
            zeroMarket = zeroMarket || v.market == address(0);
            maxMarket = maxMarket || v.market == address(type(uint160).max);
        }
        assertTrue(task0 && task1 && taskMax && dx0 && dx255 && zeroSalt, "edge case missing");
        assertTrue(
            anvilChain && otherChain && u64MaxChain && zeroMarket && maxMarket, "chain/market edge missing"
        );
    }
}
